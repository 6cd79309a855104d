/** RFC 8693 §3 token type identifiers. */
export const TOKEN_TYPE = {
  access_token: 'urn:ietf:params:oauth:token-type:access_token',
  id_token: 'urn:ietf:params:oauth:token-type:id_token',
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
} as const;

/** What subject_token may be: our access tokens and ID tokens, or a JWT (trusted issuer's or ours). */
export const SUBJECT_TYPES: readonly string[] = [TOKEN_TYPE.access_token, TOKEN_TYPE.id_token, TOKEN_TYPE.jwt];

/**
 * What actor_token may be. Not an ID token: it says who a user is to the client it was issued to
 * (OIDC Core §2), while the actor of an exchange is the party doing the acting — the calling
 * client, or one its policy names (RFC 8693 §1.1, §2.1; delegation.ts).
 */
export const ACTOR_TYPES: readonly string[] = [TOKEN_TYPE.access_token, TOKEN_TYPE.jwt];

/** What requested_token_type may ask for. */
export const ISSUED_TYPES: readonly string[] = [TOKEN_TYPE.access_token, TOKEN_TYPE.jwt];

/**
 * Lifetime of an issued token of type jwt. Such a JWT is typically presented as a JWT-bearer
 * assertion to another domain's authorization server (identity chaining), where assertions live
 * minutes: five minutes is what this server accepts by default.
 */
export const ISSUED_JWT_TTL = 300;
