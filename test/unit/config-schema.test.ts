import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { describe, it } from 'node:test';
import { ConfigError, SETTING_NAMES, loadConfig, settingKey, type Config } from '../../src/config.js';

const refused = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.doesNotMatch(err.message, /\n/, 'one line');
    return err.message;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
};

describe('config: one schema', () => {
  it('every setting is a camelCase key of Config (LATCHKEY_ dropped), and frozen', () => {
    const c = loadConfig({
      LATCHKEY_SECRET: 'x'.repeat(32),
      LATCHKEY_BOOTSTRAP: 'b.json',
      METRICS_TOKEN: 'm'.repeat(32),
      METRICS_PORT: '9100',
    });
    assert.ok(Object.isFrozen(c));
    for (const name of SETTING_NAMES) {
      if (name === 'DATABASE_URL') continue; // the one setting left unset here
      assert.ok(settingKey(name) in c, `${name} → ${settingKey(name)}`);
    }
    assert.equal(settingKey('DB_STATEMENT_TIMEOUT_MS'), 'dbStatementTimeoutMs');
    assert.equal(c.secret, 'x'.repeat(32));
    assert.equal(c.bootstrap, 'b.json');
    // The type says the same (this line does not compile otherwise).
    const keys: (keyof Config)[] = ['dbStatementTimeoutMs', 'secret', 'bootstrap', 'trustProxy', 'metricsPort', 'issuer'];
    assert.equal(keys.length, 6);
  });

  it('every setting is documented in the README Configuration table', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Clients, resources and users'));
    for (const name of SETTING_NAMES) assert.match(table, new RegExp(`^\\| \`${name}\``, 'm'), `${name} has a row`);
  });

  it('PKCE_REQUIRED: always by default, except-oidc-nonce on request, anything else refused naming the values', () => {
    assert.equal(loadConfig({}).pkceRequired, 'always');
    assert.equal(loadConfig({ PKCE_REQUIRED: 'except-oidc-nonce' }).pkceRequired, 'except-oidc-nonce');
    assert.match(refused({ PKCE_REQUIRED: 'never' }), /PKCE_REQUIRED must be always or except-oidc-nonce/);
  });

  it('TRUST_PROXY: true is refused with what to use instead; a bad list entry is named', () => {
    const t = refused({ TRUST_PROXY: 'true' });
    assert.match(t, /^invalid configuration: TRUST_PROXY=true/);
    assert.match(t, /TRUST_PROXY=1/);
    assert.match(refused({ TRUST_PROXY: 'maybe' }), /TRUST_PROXY must be false, a number of proxy hops.*"maybe" is not one/);
    assert.match(refused({ TRUST_PROXY: '10.0.0.0/33' }), /"10\.0\.0\.0\/33"/);
    assert.match(refused({ TRUST_PROXY: '11' }), /TRUST_PROXY: a hop count must be at most 10/);
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: 'false' }).trustProxy, false);
    assert.equal(loadConfig({ TRUST_PROXY: '2' }).trustProxy, 2);
    assert.deepEqual(loadConfig({ TRUST_PROXY: 'loopback, fd00::/8,192.0.2.7' }).trustProxy, ['loopback', 'fd00::/8', '192.0.2.7']);
  });

  it('connection limits have safe defaults and must agree with each other', () => {
    const c = loadConfig({});
    assert.deepEqual(
      [c.headersTimeout, c.requestTimeout, c.keepAliveTimeout, c.connectionTimeout, c.maxRequestsPerSocket],
      [10, 30, 72, 120, 1000],
    );
    assert.match(refused({ HEADERS_TIMEOUT: '40' }), /HEADERS_TIMEOUT \(40\) must not exceed REQUEST_TIMEOUT \(30\)/);
    assert.match(refused({ CONNECTION_TIMEOUT: '60' }), /CONNECTION_TIMEOUT \(60\) must be longer than KEEP_ALIVE_TIMEOUT \(72\)/);
    assert.match(refused({ REQUEST_TIMEOUT: '0' }), /REQUEST_TIMEOUT must be at least 1/);
  });

  it('metrics: the token must be long, the port must not be the main one', () => {
    assert.match(refused({ METRICS_TOKEN: 'short' }), /METRICS_TOKEN must be at least 32 characters/);
    assert.match(refused({ PORT: '9100', METRICS_PORT: '9100' }), /METRICS_PORT must differ from PORT \(9100\)/);
    const c = loadConfig({});
    assert.equal(c.metricsToken, undefined);
    assert.equal(c.metricsPort, undefined);
    assert.equal(c.metricsHost, '127.0.0.1');
  });

  it('several bad variables are named in one line', () => {
    const m = refused({ PORT: 'abc', LOG_LEVEL: 'loud' });
    assert.match(m, /PORT must be a number; LOG_LEVEL must be one of/);
  });
});

describe('config: WORKERS', () => {
  const pg = { DATABASE_URL: 'postgres://db/latchkey', LATCHKEY_SECRET: 'x'.repeat(32) };
  it('auto (the default): the number of CPUs with DATABASE_URL, 1 on the embedded database', () => {
    assert.equal(loadConfig({}).workers, 1);
    assert.equal(loadConfig({ WORKERS: 'auto' }).workers, 1);
    assert.equal(loadConfig(pg).workers, availableParallelism());
    assert.equal(loadConfig({ ...pg, WORKERS: 'AUTO' }).workers, availableParallelism());
    assert.equal(loadConfig({ ...pg, WORKERS: '5' }).workers, 5);
    assert.equal(loadConfig({ WORKERS: '1' }).workers, 1);
  });

  it('more than one without DATABASE_URL is refused, naming the setting and what to do', () => {
    assert.equal(
      refused({ WORKERS: '2' }),
      'invalid configuration: WORKERS=2 needs DATABASE_URL: the embedded database serves one process; set DATABASE_URL to a PostgreSQL server, or WORKERS=1',
    );
  });

  it('anything but auto or a whole number from 1 to 256 is refused', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '257', '3 workers', 'max']) {
      assert.match(refused({ ...pg, WORKERS: bad }), /^invalid configuration: WORKERS must be auto or a whole number from 1 to 256/, bad);
    }
  });
});
