import type { AuthorizationCodeState, CodeExchangeFailure } from '../store/repositories/codes.js';

/**
 * Why a code the client presented could not be consumed, decided from what the store found.
 * Pure: src/grants/authorization-code.ts acts on it.
 * - `replayed_after_tokens`: it was consumed by an exchange that was not refused, so tokens may
 *   have been issued from it; RFC 6749 §4.1.2 says to revoke them (the grant).
 * - `replayed_after_refusal`: the exchange that consumed it was refused (`failure` says why), so
 *   nothing was issued from it and there is nothing to revoke; it is still single-use.
 * - `revoked`: unused, but its grant was revoked before the exchange (the person withdrew consent,
 *   or their password was changed): no token is issued from a withdrawn authorization.
 */
export type CodeRefusal =
  | { kind: 'unknown' }
  | { kind: 'other_client' }
  | { kind: 'expired' }
  | { kind: 'revoked' }
  | { kind: 'replayed_after_tokens'; grantId: string }
  | { kind: 'replayed_after_refusal'; grantId: string; failure: CodeExchangeFailure };

export function whyNotConsumed(code: AuthorizationCodeState | undefined, clientId: string): CodeRefusal {
  if (!code) return { kind: 'unknown' };
  if (code.clientId !== clientId) return { kind: 'other_client' };
  if (!code.consumedAt) return code.grantRevoked ? { kind: 'revoked' } : { kind: 'expired' };
  return code.exchangeFailure
    ? { kind: 'replayed_after_refusal', grantId: code.grantId, failure: code.exchangeFailure }
    : { kind: 'replayed_after_tokens', grantId: code.grantId };
}

const FAILURE_WORDS: Record<CodeExchangeFailure, string> = {
  redirect_uri: 'its redirect_uri did not match the authorization request',
  code_verifier: 'its code_verifier was missing, malformed or did not match the code_challenge',
  resource: 'it asked for a resource the authorization request did not include',
  dpop_jkt: 'it did not prove the DPoP key named by dpop_jkt in the authorization request',
};

/** The error_description for a refusal (RFC 6749 §5.2 characters only: no quotes, no backslash). */
export function refusalDescription(r: CodeRefusal): string {
  switch (r.kind) {
    case 'unknown':
      return 'the authorization code is not valid';
    case 'other_client':
      return 'the authorization code was issued to another client';
    case 'expired':
      return 'the authorization code has expired; start the authorization again';
    case 'revoked':
      return 'the authorization was withdrawn before the code was exchanged (consent revoked or password changed); start the authorization again';
    case 'replayed_after_tokens':
      return 'the authorization code has already been used; every token issued from it is now revoked';
    case 'replayed_after_refusal':
      return `the authorization code has already been used by a token request that was refused (${FAILURE_WORDS[r.failure]}), so no token was issued from it; a code works only once: start the authorization again`;
  }
}
