import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OIDC_SCOPES, SCOPE_CLAIMS, claimsForScopes, userClaimsSchema, type UserClaims } from '../../src/users/claims.js';

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

  it('accepts the standard claims and refuses anything else, including sub (assigned, never given)', () => {
    assert.ok(userClaimsSchema.safeParse(alice).success);
    assert.ok(!userClaimsSchema.safeParse({ sub: 'x' }).success);
    assert.ok(!userClaimsSchema.safeParse({ shoe_size: 44 }).success);
    assert.ok(!userClaimsSchema.safeParse({ address: { planet: 'Mars' } }).success);
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
