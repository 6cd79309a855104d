import * as oidc from 'openid-client';

/**
 * An authorization request as a relying party makes it (openid-client): code + S256 PKCE, a nonce
 * and a state, scope "openid profile email" unless `extra` says otherwise. Returns the URL and the
 * values the callback needs.
 */
export async function pkceAuthorizationUrl(config: oidc.Configuration, redirectUri: string, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    ...extra,
  });
  return { url, verifier, nonce, state };
}
