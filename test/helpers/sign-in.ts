import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { pkceAuthorizationUrl } from './oidc.js';
import { UserAgent, formAction, hiddenField } from './user-agent.js';

/**
 * The authorization code flow as a relying party and a person do it: openid-client builds the
 * request, a UserAgent signs in on the login page (and allows on the consent page if shown), and
 * openid-client redeems the code. Returns the tokens and the browser, still signed in.
 */
export async function signInWithCodeFlow(opts: {
  config: oidc.Configuration;
  baseUrl: string;
  redirectUri: string;
  username: string;
  password: string;
  scope: string;
}): Promise<{ tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers; ua: UserAgent }> {
  const ua = new UserAgent();
  const a = await pkceAuthorizationUrl(opts.config, opts.redirectUri, { scope: opts.scope });
  let r = await ua.follow(await ua.get(a.url.toString()), opts.baseUrl);
  let html = await r.text();
  assert.match(html, /name="password"/, 'the login page');
  r = await ua.post(formAction(html, opts.baseUrl), { username: opts.username, password: opts.password, csrf: hiddenField(html, 'csrf') });
  r = await ua.follow(r, opts.baseUrl);
  if (r.status < 300) {
    html = await r.text();
    assert.match(html, /name="decision"/, 'the consent page');
    r = await ua.post(formAction(html, opts.baseUrl), { decision: 'allow', csrf: hiddenField(html, 'csrf') });
  }
  const callback = r.headers.get('location');
  assert.ok(callback?.startsWith(opts.redirectUri), `redirected to the client, not ${callback ?? r.status}`);
  const tokens = await oidc.authorizationCodeGrant(opts.config, new URL(callback!), {
    pkceCodeVerifier: a.verifier,
    expectedNonce: a.nonce,
    expectedState: a.state,
  });
  return { tokens, ua };
}
