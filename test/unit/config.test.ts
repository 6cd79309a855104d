import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('config', () => {
  it('has safe defaults', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.issuer, 'http://localhost:3000');
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.trustProxy, false);
    assert.ok(Object.isFrozen(c));
  });

  it('derives the issuer from PORT', () => {
    assert.equal(loadConfig({ PORT: '8080' }).issuer, 'http://localhost:8080');
  });

  const fails = (env: Record<string, string>, ...names: RegExp[]) => {
    assert.throws(
      () => loadConfig(env),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        for (const n of names) assert.match(err.message, n);
        return true;
      },
    );
  };

  it('a bad value names the variable and the problem', () => {
    fails({ PORT: 'abc' }, /PORT/, /number/);
    fails({ PORT: '70000' }, /PORT/, /65535/);
    fails({ LOG_LEVEL: 'loud' }, /LOG_LEVEL/);
    fails({ ACCESS_TOKEN_TTL: '5' }, /ACCESS_TOKEN_TTL/, /at least 30/);
    fails({ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/, /postgres/);
    fails({ LATCHKEY_SECRET: 'short' }, /LATCHKEY_SECRET/, /32/);
    fails({ JWKS_URI_ALLOW_PRIVATE: 'maybe' }, /JWKS_URI_ALLOW_PRIVATE/);
  });

  it('LATCHKEY_SECRET is required with DATABASE_URL', () => {
    fails({ DATABASE_URL: 'postgres://localhost/x' }, /LATCHKEY_SECRET is required when DATABASE_URL is set/);
    const c = loadConfig({ DATABASE_URL: 'postgres://localhost/x', LATCHKEY_SECRET: 'x'.repeat(32) });
    assert.equal(c.databaseUrl, 'postgres://localhost/x');
  });

  it('the issuer must be https (except loopback), without query, fragment or trailing slash', () => {
    fails({ ISSUER: 'http://auth.example.com' }, /ISSUER/, /https/);
    fails({ ISSUER: 'https://auth.example.com/' }, /ISSUER/, /must not end with "\/"/);
    fails({ ISSUER: 'https://auth.example.com?x=1' }, /ISSUER/, /query or fragment/);
    fails({ ISSUER: 'not a url' }, /ISSUER/);
    assert.equal(loadConfig({ ISSUER: 'https://auth.example.com/tenant' }).issuer, 'https://auth.example.com/tenant');
    assert.equal(loadConfig({ ISSUER: 'http://127.0.0.1:9000' }).issuer, 'http://127.0.0.1:9000');
  });

  it('TRUST_PROXY is off by default and takes a hop count or a list', () => {
    assert.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
    assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 10.0.1.0/24' }).trustProxy, ['10.0.0.1', '10.0.1.0/24']);
  });
});

describe('config: empty variables', () => {
  it('an empty variable means unset (compose files pass VAR= through)', () => {
    const c = loadConfig({ LATCHKEY_BOOTSTRAP: '', PORT: '' });
    assert.equal(c.bootstrap, undefined);
    assert.equal(c.port, 3000);
  });
});
