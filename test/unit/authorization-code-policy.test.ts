import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { refusalDescription, whyNotConsumed } from '../../src/grants/authorization-code-policy.js';
import type { AuthorizationCodeState } from '../../src/store/repositories/codes.js';

const code: AuthorizationCodeState = {
  codeHash: 'h',
  grantId: 'g1',
  clientId: 'web',
  userId: 'u1',
  redirectUri: 'https://app.example.com/cb',
  scopes: ['openid'],
  resources: [],
  nonce: null,
  codeChallenge: null,
  authTime: new Date(0),
  amr: null,
  expiresAt: new Date(60_000),
  consumedAt: null,
  exchangeFailure: null,
  dpopJkt: null,
  grantRevoked: false,
};
/** RFC 6749 §5.2: error_description uses %x20-21 / %x23-5B / %x5D-7E only. */
const RFC6749_CHARS = /^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/;

describe('authorization code refusals (src/grants/authorization-code-policy.ts)', () => {
  it('says why a code could not be consumed', () => {
    assert.deepEqual(whyNotConsumed(undefined, 'web'), { kind: 'unknown' });
    assert.deepEqual(whyNotConsumed(code, 'other'), { kind: 'other_client' });
    assert.deepEqual(whyNotConsumed(code, 'web'), { kind: 'expired' });
    // Consent withdrawn (or password changed) before the exchange: said so, not "expired".
    assert.deepEqual(whyNotConsumed({ ...code, grantRevoked: true }, 'web'), { kind: 'revoked' });
    // A replay is a replay whatever has happened to its grant since.
    assert.deepEqual(whyNotConsumed({ ...code, grantRevoked: true, consumedAt: new Date(1) }, 'web'), {
      kind: 'replayed_after_tokens',
      grantId: 'g1',
    });
    assert.deepEqual(whyNotConsumed({ ...code, consumedAt: new Date(1) }, 'web'), { kind: 'replayed_after_tokens', grantId: 'g1' });
    assert.deepEqual(whyNotConsumed({ ...code, consumedAt: new Date(1), exchangeFailure: 'redirect_uri' }, 'web'), {
      kind: 'replayed_after_refusal',
      grantId: 'g1',
      failure: 'redirect_uri',
    });
  });

  it('only a code that may have issued tokens claims to revoke them; every description uses RFC 6749 §5.2 characters', () => {
    const used = refusalDescription({ kind: 'replayed_after_tokens', grantId: 'g1' });
    assert.match(used, /every token issued from it is now revoked/);
    for (const failure of ['redirect_uri', 'code_verifier', 'resource'] as const) {
      const d = refusalDescription({ kind: 'replayed_after_refusal', grantId: 'g1', failure });
      assert.match(d, /was refused .* no token was issued from it/);
      assert.doesNotMatch(d, /revoked/);
      assert.match(d, RFC6749_CHARS);
    }
    for (const kind of ['unknown', 'other_client', 'expired', 'revoked'] as const)
      assert.match(refusalDescription({ kind }), RFC6749_CHARS);
  });
});
