import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeIssues } from '../../src/oauth/issues.js';
import { idTokenUserClaims, userinfoClaims } from '../../src/oauth/claim-release.js';
import {
  MAX_CLAIMS_BYTES,
  OIDC_SCOPES,
  SCOPE_CLAIMS,
  claimsByName,
  claimsForScopes,
  userClaimsSchema,
  type UserClaims,
} from '../../src/users/claims.js';

const alice: UserClaims = {
  name: 'Alice Example',
  given_name: 'Alice',
  email: 'alice@example.com',
  email_verified: true,
  phone_number: '+33 1 23 45 67 89',
  address: { country: 'FR', locality: 'Paris' },
  birthdate: '1990-04-01',
  updated_at: 1_700_000_000,
};

describe('user claims (OIDC Core §5.1, §5.4)', () => {
  it('each scope releases its claims only (§5.4), and only those the user has', () => {
    assert.deepEqual(claimsForScopes(alice, ['openid']), {});
    assert.deepEqual(claimsForScopes(alice, ['email']), { email: 'alice@example.com', email_verified: true });
    assert.deepEqual(claimsForScopes(alice, ['profile']), {
      name: 'Alice Example',
      given_name: 'Alice',
      birthdate: '1990-04-01',
      updated_at: 1_700_000_000,
    });
    assert.deepEqual(claimsForScopes(alice, ['address']), { address: { country: 'FR', locality: 'Paris' } });
    assert.deepEqual(claimsForScopes(alice, ['phone']), { phone_number: '+33 1 23 45 67 89' });
    assert.deepEqual(claimsForScopes(alice, ['api:read', 'offline_access']), {}, 'resource scopes release no claims');
    assert.deepEqual(Object.keys(claimsForScopes(alice, ['email', 'phone'])).sort(), ['email', 'email_verified', 'phone_number']);
  });

  it('the §5.4 table: profile, email, address, phone', () => {
    assert.deepEqual(SCOPE_CLAIMS.email, ['email', 'email_verified']);
    assert.deepEqual(SCOPE_CLAIMS.phone, ['phone_number', 'phone_number_verified']);
    assert.deepEqual(SCOPE_CLAIMS.address, ['address']);
    assert.equal(SCOPE_CLAIMS.profile?.length, 14);
    for (const s of ['openid', 'profile', 'email', 'address', 'phone', 'offline_access']) assert.ok(OIDC_SCOPES.has(s), s);
    assert.ok(!OIDC_SCOPES.has('api:read'));
  });

  it('accepts the standard claims and custom claims beside them, and refuses sub (assigned, never given)', () => {
    assert.ok(userClaimsSchema.safeParse(alice).success);
    assert.ok(!userClaimsSchema.safeParse({ sub: 'x' }).success);
    // Custom claims: any JSON value under a valid name (issue 14 item 5).
    assert.deepEqual(userClaimsSchema.parse({ shoe_size: 44, 'https://example.com/tier': 'gold', teams: ['a', { b: [1] }] }), {
      shoe_size: 44,
      'https://example.com/tier': 'gold',
      teams: ['a', { b: [1] }],
    });
    assert.ok(!userClaimsSchema.safeParse({ address: { planet: 'Mars' } }).success, 'the standard address claim stays strict');
  });

  it('checks the formats the spec gives: email, verified flags as booleans, URLs, birthdate, updated_at', () => {
    const issue = (claims: unknown) => {
      const r = userClaimsSchema.safeParse(claims);
      assert.ok(!r.success, `expected ${JSON.stringify(claims)} to be refused`);
      return r.error.issues[0]?.message ?? '';
    };
    assert.equal(issue({ email: 'not-an-email' }), 'email must be an email address');
    issue({ email_verified: 'true' });
    issue({ picture: 'not a url' });
    assert.match(issue({ birthdate: '01/04/1990' }), /YYYY-MM-DD or YYYY/);
    issue({ updated_at: 1.5 });
    for (const ok of ['1990', '0000-04-01', '1990-04-01']) assert.ok(userClaimsSchema.safeParse({ birthdate: ok }).success, ok);
  });
});

describe('custom claims: names, size and depth (issue 14 item 5)', () => {
  const refusal = (claims: unknown): string => {
    const r = userClaimsSchema.safeParse(claims);
    assert.ok(!r.success, `expected ${JSON.stringify(claims)} to be refused`);
    return describeIssues(r.error);
  };

  it('refuses every protocol claim name, and roles (which come from the user’s roles), naming the claim', () => {
    for (const name of ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'sid']) {
      assert.match(refusal({ [name]: 'x' }), new RegExp(`^${name}: claim "${name}" is reserved`), name);
    }
    for (const name of ['at_hash', 'c_hash', 'scope', 'client_id', 'cnf', 'act', 'may_act', 'gid', 'roles']) {
      assert.match(refusal({ [name]: 'x' }), /is reserved/, name);
    }
    assert.match(refusal({ roles: ['admin'] }), /set roles with the user's roles/);
  });

  it('refuses malformed names and names of Object.prototype', () => {
    for (const name of ['9lives', '_x', 'has space', 'a'.repeat(65), 'é', 'http://example.com/x', '']) {
      assert.match(refusal({ [name]: 1 }), /has an invalid name/, JSON.stringify(name));
    }
    // zod never copies a "__proto__" member into what it parses: it is dropped, and reaches no prototype.
    const proto = userClaimsSchema.parse(JSON.parse('{"__proto__": {"admin": true}, "team": "a"}')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(proto), ['team']);
    assert.equal(proto.admin, undefined);
    assert.match(refusal({ constructor: 'x' }), /"constructor" is not allowed/);
    for (const ok of ['a', 'department', 'org.team', 'urn:x-acme:tier', 'a-b_c.d:e', 'x'.repeat(64), 'https://example.com/claims/tier']) {
      assert.ok(userClaimsSchema.safeParse({ [ok]: 1 }).success, ok);
    }
  });

  it('refuses null values, values nested deeper than 5 levels and more than 8 KiB in all, naming the claim', () => {
    assert.match(refusal({ team: null }), /^team: claim "team" is null: leave it out instead$/);
    assert.ok(userClaimsSchema.safeParse({ deep: [[[[[1]]]]] }).success, '5 levels');
    assert.match(refusal({ deep: [[[[[[1]]]]]] }), /^deep: claim "deep" nests deeper than 5 levels/);
    assert.match(refusal({ deep: { a: { b: { c: { d: { e: { f: 1 } } } } } } }), /nests deeper than 5/);
    assert.ok(userClaimsSchema.safeParse({ bio: 'x'.repeat(MAX_CLAIMS_BYTES - 20) }).success, 'just under 8 KiB');
    assert.match(
      refusal({ name: 'Alice', bio: 'x'.repeat(MAX_CLAIMS_BYTES) }),
      /^bio: the claims take \d+ bytes as JSON, more than 8192; the largest is "bio"/,
    );
  });

  it('release: claimsByName takes roles from the roles and the rest from the claims, never a reserved name', () => {
    const user = { claims: { email: 'a@example.com', department: 'sales', iss: 'forged' } as Record<string, unknown>, roles: ['admin'] };
    assert.deepEqual(claimsByName(user, ['roles', 'department', 'email', 'missing', 'iss']), {
      roles: ['admin'],
      department: 'sales',
      email: 'a@example.com',
    });
    assert.deepEqual(claimsByName({ claims: {}, roles: [] }, ['roles']), { roles: [] }, 'asked for, roles are always said');
  });

  it('ID token: scope claims and id_token_claims by default, nothing with id_token_minimal; userinfo always both', () => {
    const user = { claims: { email: 'a@example.com', name: 'A', department: 'sales' } as Record<string, unknown>, roles: ['admin'] };
    const scopes = ['openid', 'email'];
    assert.deepEqual(idTokenUserClaims(user, scopes, {}), { email: 'a@example.com' });
    assert.deepEqual(idTokenUserClaims(user, scopes, { id_token_claims: ['roles', 'department'] }), {
      email: 'a@example.com',
      roles: ['admin'],
      department: 'sales',
    });
    assert.deepEqual(idTokenUserClaims(user, scopes, { id_token_claims: ['roles'], id_token_minimal: true }), {});
    assert.deepEqual(userinfoClaims(user, scopes, { id_token_claims: ['roles'], id_token_minimal: true }), {
      email: 'a@example.com',
      roles: ['admin'],
    });
  });
});
