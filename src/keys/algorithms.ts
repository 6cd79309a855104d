/** Algorithms Latchkey signs with. RS256 is required by OIDC Core §15.1 and RFC 9068 §2.1. */
export const SIGNING_ALGS = ['RS256', 'ES256'] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * Asymmetric algorithms accepted on JWTs we receive (client assertions). An allow-list that has
 * no `none` and no HMAC: an HS256 "signature" keyed with a public key is refused before any
 * key is looked at (CVE-2022-23540/23541).
 */
export const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
