import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/clock.js';
import { clientMetadataSchema, describeIssues } from '../../src/oauth/client-metadata.js';
import { bootstrapSchema } from '../../src/bootstrap.js';
import { loadConfig } from '../../src/config.js';
import { JwtRejected, checkHeader, singleAudience } from '../../src/trust/received-jwt.js';
import { TrustedIssuerCache } from '../../src/trust/registry.js';
import { trustedIssuerSchema, type TrustedIssuer } from '../../src/trust/schema.js';
import { localSubject } from '../../src/trust/subject.js';
import { trustedReplayKey } from '../../src/trust/verify-trusted.js';

const KEY = {
  kty: 'EC',
  crv: 'P-256',
  x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
  y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  kid: 'k1',
};
const valid = { issuer: 'https://idp.partner.example', jwks: { keys: [KEY] }, subject: 'alice', scope: 'api:read', client_ids: ['svc'] };

const problems = (input: unknown) => {
  const r = trustedIssuerSchema.safeParse(input);
  assert.equal(r.success, false, `expected ${JSON.stringify(input)} to be refused`);
  return describeIssues(r.error);
};

describe('trusted issuer schema', () => {
  it('accepts the docs/contract.md shape and fills defaults', () => {
    const t = trustedIssuerSchema.parse({
      issuer: 'https://idp.partner.example',
      jwks: { keys: [] },
      subject: 'alice',
      allow_any_subject: false,
      scope: 'api:read',
      client_ids: ['partner-service'],
    });
    assert.equal(t.allow_any_subject, false);
    const any = trustedIssuerSchema.parse({
      issuer: 'urn:example:idp',
      jwks_uri: 'https://idp.example/jwks',
      allow_any_subject: true,
      client_ids: ['a', 'a', 'b'],
    });
    assert.equal(any.scope, '');
    assert.deepEqual(any.client_ids, ['a', 'b']);
  });

  it('subject XOR allow_any_subject, jwks XOR jwks_uri, at least one client', () => {
    assert.match(problems({ ...valid, allow_any_subject: true }), /subject: give either subject or allow_any_subject/);
    assert.match(problems({ ...valid, subject: undefined }), /subject: name the one subject .* or set allow_any_subject: true/);
    assert.match(problems({ ...valid, jwks_uri: 'https://idp.example/jwks' }), /jwks: give either jwks or jwks_uri/);
    assert.match(problems({ ...valid, jwks: undefined }), /jwks: a trusted issuer needs its public keys/);
    assert.match(problems({ ...valid, client_ids: [] }), /client_ids: client_ids must name at least one client/);
  });

  it('refuses private keys, bad URIs, bad scopes, odd identifiers and unknown fields', () => {
    assert.match(problems({ ...valid, jwks: { keys: [{ ...KEY, d: 'secret' }] } }), /public keys only/);
    assert.match(problems({ ...valid, jwks: undefined, jwks_uri: 'ftp://idp.example/jwks' }), /jwks_uri must be an http\(s\) URL/);
    assert.match(problems({ ...valid, scope: 'a  b' }), /scope must be space-separated/);
    assert.match(problems({ ...valid, issuer: 'has space' }), /issuer must be printable ASCII/);
    assert.match(problems({ ...valid, issuer: '' }), /issuer must not be empty/);
    assert.match(problems({ ...valid, client_ids: ['ok', 'not ok'] }), /client_ids\[1\]: each client_id must be printable ASCII/);
    assert.match(problems({ ...valid, allow_any_subject: 'yes' }), /allow_any_subject must be true or false/);
    assert.match(problems({ ...valid, subjects: ['a'] }), /unknown field\(s\) "subjects"/);
  });

  it('the bootstrap file accepts trusted_issuers and refuses duplicates', () => {
    assert.equal(bootstrapSchema.parse({ trusted_issuers: [valid] }).trusted_issuers.length, 1);
    const r = bootstrapSchema.safeParse({ trusted_issuers: [valid, valid] });
    assert.equal(r.success, false);
    assert.match(describeIssues(r.error), /issuer "https:\/\/idp\.partner\.example" appears twice/);
  });
});

describe('client metadata for the on-behalf-of grants', () => {
  it('a public client cannot use jwt-bearer or token exchange', () => {
    const r = clientMetadataSchema.safeParse({
      client_id: 'spa',
      token_endpoint_auth_method: 'none',
      grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'],
    });
    assert.equal(r.success, false);
    assert.match(describeIssues(r.error), /public client .* cannot use urn:ietf:params:oauth:grant-type:token-exchange/);
  });

  it('token_exchange_impersonation is an optional boolean', () => {
    const base = { client_id: 'svc', client_secret: 'x'.repeat(32), grant_types: ['urn:ietf:params:oauth:grant-type:token-exchange'] };
    assert.equal(clientMetadataSchema.parse(base).token_exchange_impersonation, undefined);
    assert.equal(clientMetadataSchema.parse({ ...base, token_exchange_impersonation: true }).token_exchange_impersonation, true);
    assert.equal(clientMetadataSchema.safeParse({ ...base, token_exchange_impersonation: 'yes' }).success, false);
  });
});

describe('received JWT helpers', () => {
  it('checkHeader refuses sender-chosen keys and algorithms outside the allow-list', () => {
    const reason = (h: Record<string, unknown>) => {
      try {
        checkHeader(h, ['ES256', 'RS256'], 'the registered keys');
      } catch (err) {
        assert.ok(err instanceof JwtRejected);
        return err.reason;
      }
      return undefined;
    };
    assert.equal(reason({ alg: 'ES256', kid: 'k' }), undefined);
    assert.match(reason({ alg: 'none' })!, /alg "none" is not allowed/);
    assert.match(reason({ alg: 'HS256' })!, /alg "HS256" is not allowed/);
    assert.match(reason({})!, /alg "undefined" is not allowed/);
    for (const h of ['jwk', 'jku', 'x5u', 'x5c'])
      assert.match(reason({ alg: 'ES256', [h]: 'x' })!, new RegExp(`"${h}" header is not accepted`));
  });

  it('singleAudience accepts exactly one of the values, as a string', () => {
    const check = singleAudience(['https://as.example'], 'this server');
    assert.equal(check('https://as.example'), undefined);
    for (const bad of [['https://as.example'], ['https://as.example', 'https://rp.example'], 'https://AS.example', undefined, 42]) {
      assert.match(check(bad)!, /"aud" must be this server as a single string/);
    }
  });

  it('replay keys cannot collide between (iss, jti) pairs, nor with client assertions', () => {
    assert.notEqual(trustedReplayKey('a:b', 'c'), trustedReplayKey('a', 'b:c'));
    assert.notEqual(trustedReplayKey('a","b', 'c'), trustedReplayKey('a', 'b","c'));
    assert.ok(!trustedReplayKey('x', 'y').startsWith('client_assertion:'));
  });

  it("localSubject: a username becomes the user's id, anything else stays verbatim", async () => {
    const users = {
      findByUsername: (u: string) => Promise.resolve(u.toLowerCase() === 'alice' ? ({ id: 'user-id-1' } as never) : undefined),
      findById: () => Promise.resolve(undefined),
    };
    assert.deepEqual(await localSubject(users, 'Alice'), { sub: 'user-id-1', userId: 'user-id-1' });
    assert.deepEqual(await localSubject(users, 'partner-42'), { sub: 'partner-42' });
  });

  it('TrustedIssuerCache: cached for the TTL, unknown issuers too, then re-read', async () => {
    const clock = new ManualClock(1_000_000);
    let reads = 0;
    let stored: TrustedIssuer | undefined = trustedIssuerSchema.parse(valid);
    const cache = new TrustedIssuerCache(
      {
        find: () => {
          reads++;
          return Promise.resolve(
            stored ? { issuer: stored.issuer, metadata: stored, createdAt: new Date(), updatedAt: new Date() } : undefined,
          );
        },
      },
      clock,
      5,
    );
    assert.equal((await cache.get(valid.issuer))?.subject, 'alice');
    await cache.get(valid.issuer);
    assert.equal(reads, 1);
    stored = undefined;
    clock.advance(6);
    assert.equal(await cache.get(valid.issuer), undefined);
    await cache.get(valid.issuer);
    assert.equal(reads, 2);
  });

  it('JWT_BEARER_MAX_ASSERTION_LIFETIME: default 300 s, validated', () => {
    assert.equal(loadConfig({}).jwtBearerMaxAssertionLifetime, 300);
    assert.equal(loadConfig({ JWT_BEARER_MAX_ASSERTION_LIFETIME: '3600' }).jwtBearerMaxAssertionLifetime, 3600);
    assert.throws(() => loadConfig({ JWT_BEARER_MAX_ASSERTION_LIFETIME: '5' }), /JWT_BEARER_MAX_ASSERTION_LIFETIME must be at least 30/);
  });
});
