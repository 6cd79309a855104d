import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAppContext, type AppContext } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import { API, SECRET } from '../helpers/fixtures.js';
import { freshDatabaseEnv } from '../helpers/server.js';
import { basicAuth } from '../support/basic-auth.js';
import { applyBootstrap, bootstrapSchema } from '../../src/bootstrap.js';

describe('faults answer well-formed JSON, never a stack trace', () => {
  let ctx: AppContext;
  let env: Awaited<ReturnType<typeof freshDatabaseEnv>>;

  before(async () => {
    env = await freshDatabaseEnv();
    ctx = await createAppContext(loadConfig({ ...env.env, LOG_LEVEL: 'silent' }));
    await applyBootstrap(
      ctx.db,
      ctx.secrets,
      bootstrapSchema.parse({
        resources: [{ identifier: API, scopes: ['api:read'] }],
        clients: [{ client_id: 'svc', client_secret: SECRET, grant_types: ['client_credentials'], scope: 'api:read', audiences: [API] }],
      }),
    );
  });
  after(async () => {
    await ctx.db.close().catch(() => {});
    await env.drop();
  });

  it('an unexpected error is a generic server_error naming the request id', async () => {
    const app = await buildServer(ctx, { logger: false });
    // Rejects as a failing async handler does.
    app.get('/boom', () => Promise.reject(new TypeError('secret internal detail')));
    const res = await app.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-42' } });
    assert.equal(res.statusCode, 500);
    const body = res.json();
    assert.equal(body.error, 'server_error');
    assert.match(body.error_description, /req-42/);
    assert.doesNotMatch(res.body, /secret internal detail|TypeError|at /);
    await app.close();
  });

  it('with the database gone: 503 temporarily_unavailable, and /readyz says not ready', async () => {
    const app = await buildServer(ctx, { logger: false });
    await ctx.db.close();
    const token = await app.inject({
      method: 'POST',
      url: '/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth('unknown-client', SECRET) },
      payload: 'grant_type=client_credentials',
    });
    assert.equal(token.statusCode, 503, token.body);
    assert.equal(token.json().error, 'temporarily_unavailable');
    assert.ok(token.headers['retry-after']);
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 503);
    assert.equal(ready.json().checks.database, 'unavailable');
    await app.close();
  });
});
