/**
 * When a sign-in needs the second factor, and what the ID token says about it.
 *
 * amr (RFC 8176 §2): `pwd` for the password, `otp` for a TOTP or recovery code (both are one-time
 * passwords), `mfa` when more than one factor was used. acr (OIDC Core §2) takes one of two values
 * of our own: ACR_MFA once the second factor was given, ACR_PWD otherwise. A relying party asks for
 * the second factor with `acr_values=urn:latchkey:acr:mfa` (OIDC Core §3.1.2.1), or its
 * registration requires it (`require_mfa: true`); a session signed in with the password only is
 * then asked for it (step-up), never let through.
 */
import type { ClientRecord } from '../domain/client.js';
import type { AuthorizationRequest } from '../domain/authorization-request.js';

import { ACR_MFA, ACR_PWD } from '../tokens/id-token.js';

export { ACR_MFA, ACR_PWD };
export const ACR_VALUES_SUPPORTED = [ACR_PWD, ACR_MFA] as const;

export const AMR_PASSWORD = ['pwd'] as const;
export const AMR_SECOND_FACTOR = ['pwd', 'otp', 'mfa'] as const;

/** How long a right password waits for its second factor (seconds): the OTP page's lifetime. */
export const SECOND_FACTOR_TTL = 300;

export const hasSecondFactor = (amr: readonly string[] | null | undefined): boolean => amr?.includes('otp') === true;

export const acrOf = (amr: readonly string[]): string => (hasSecondFactor(amr) ? ACR_MFA : ACR_PWD);

/** Whether this sign-in must include the second factor: the client requires it or the request asks for it. */
export function secondFactorRequired(client: ClientRecord, request: Pick<AuthorizationRequest, 'acrValues'> | object): boolean {
  if (client.metadata.require_mfa === true) return true;
  const acr = 'acrValues' in request ? request.acrValues : undefined;
  return acr?.includes(ACR_MFA) === true;
}
