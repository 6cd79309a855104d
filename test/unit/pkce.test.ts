import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CODE_VERIFIER, S256_CHALLENGE, s256, verifierMatches } from '../../src/tokens/pkce.js';

// RFC 7636 Appendix B: the example code_verifier and its S256 code_challenge.
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

describe('PKCE (RFC 7636)', () => {
  it('S256 of the Appendix B verifier is the Appendix B challenge', () => {
    assert.equal(s256(VERIFIER), CHALLENGE);
    assert.equal(verifierMatches(VERIFIER, CHALLENGE), true);
  });

  it('refuses any other verifier, a challenge of another length, and the plain method (challenge = verifier)', () => {
    assert.equal(verifierMatches(`${VERIFIER.slice(0, -1)}l`, CHALLENGE), false);
    assert.equal(verifierMatches(VERIFIER, `${CHALLENGE.slice(0, -1)}N`), false);
    assert.equal(verifierMatches(VERIFIER, CHALLENGE.slice(0, -1)), false);
    assert.equal(verifierMatches(VERIFIER, `${CHALLENGE}=`), false, 'base64url without padding (§4.2)');
    assert.equal(verifierMatches(VERIFIER, ''), false);
    assert.equal(verifierMatches(VERIFIER, VERIFIER), false);
  });

  it('code_verifier: 43 to 128 unreserved characters (§4.1)', () => {
    assert.ok(CODE_VERIFIER.test(VERIFIER));
    assert.ok(CODE_VERIFIER.test('a'.repeat(43)));
    assert.ok(CODE_VERIFIER.test('A-._~z9'.repeat(18).slice(0, 128)));
    assert.ok(!CODE_VERIFIER.test('a'.repeat(42)), 'too short');
    assert.ok(!CODE_VERIFIER.test('a'.repeat(129)), 'too long');
    for (const bad of ['+', '/', '=', ' ', '%', 'é', '\n']) assert.ok(!CODE_VERIFIER.test(`${'a'.repeat(43)}${bad}`), JSON.stringify(bad));
  });

  it('an S256 challenge is exactly 43 base64url characters', () => {
    assert.ok(S256_CHALLENGE.test(CHALLENGE));
    assert.ok(!S256_CHALLENGE.test(CHALLENGE.slice(1)));
    assert.ok(!S256_CHALLENGE.test(`${CHALLENGE}A`));
    assert.ok(!S256_CHALLENGE.test(`${CHALLENGE.slice(1)}=`));
    assert.ok(!S256_CHALLENGE.test(`${CHALLENGE.slice(1)}+`), 'base64, not base64url');
  });
});
