/**
 * Ready-to-paste configuration for a client the helper created (issue 14 item 9): the discovery
 * URL, the client id, and a snippet that works for its kind of app. Pure: the result page renders
 * what this returns, HTML-escaped by the template.
 */
import type { AppType } from './app-types.js';
import { endpointUrl } from '../../endpoints/paths.js';

export interface AppConfiguration {
  discoveryUrl: string;
  clientId: string;
  /** Environment variables for the app, one `NAME=value` a line (the secret only when there is one). */
  env: string;
  snippets: { title: string; code: string }[];
}

export interface CreatedApp {
  issuer: string;
  clientId: string;
  /** Present once, right after creation, for clients that authenticate with a secret. */
  clientSecret?: string;
  redirectUris: string[];
  scope: string;
  audiences: string[];
  usesKeys: boolean;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The client authentication part of a curl command to /token. */
function curlAuth(app: CreatedApp): string {
  if (app.usesKeys)
    return `  -d client_id=${q(app.clientId)} \\\n  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \\\n  -d client_assertion="$CLIENT_ASSERTION" \\\n`;
  if (app.clientSecret !== undefined) return `  -u "$CLIENT_ID:$CLIENT_SECRET" \\\n`;
  return `  -d client_id=${q(app.clientId)} \\\n`;
}

export function appConfiguration(t: AppType, app: CreatedApp): AppConfiguration {
  const discoveryUrl = `${app.issuer}/.well-known/openid-configuration`;
  const token = endpointUrl(app.issuer, 'token');
  const env = [
    `ISSUER=${app.issuer}`,
    `CLIENT_ID=${app.clientId}`,
    ...(app.clientSecret !== undefined ? [`CLIENT_SECRET=${app.clientSecret}`] : []),
    ...(app.redirectUris[0] ? [`REDIRECT_URI=${app.redirectUris[0]}`] : []),
  ].join('\n');
  const resource = app.audiences[0];
  const resourceLine = resource ? `  -d resource=${q(resource)} \\\n` : '';
  const scopeLine = app.scope ? `  -d scope=${q(app.scope)} \\\n` : '';
  const snippets: { title: string; code: string }[] = [];

  switch (t.id) {
    case 'web':
    case 'spa-bff':
    case 'native':
    case 'spa': {
      const confidential = app.clientSecret !== undefined;
      snippets.push({
        title: 'Node.js with openid-client (authorization code + PKCE)',
        code: [
          `import * as client from 'openid-client';`,
          ``,
          `const config = await client.discovery(new URL(process.env.ISSUER), process.env.CLIENT_ID${confidential ? ', process.env.CLIENT_SECRET' : ''});`,
          `// Start: keep verifier and state in the user's session, then redirect.`,
          `const verifier = client.randomPKCECodeVerifier();`,
          `const state = client.randomState();`,
          `const url = client.buildAuthorizationUrl(config, {`,
          `  redirect_uri: process.env.REDIRECT_URI,`,
          `  scope: ${q(app.scope || 'openid')},`,
          `  code_challenge: await client.calculatePKCECodeChallenge(verifier),`,
          `  code_challenge_method: 'S256',`,
          `  state,`,
          `});`,
          `// Callback: exchange the code.`,
          `const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier: verifier, expectedState: state });`,
        ].join('\n'),
      });
      snippets.push({
        title: 'The code exchange with curl (after the redirect back)',
        code:
          `curl -s ${token} \\\n${curlAuth(app)}  -d grant_type=authorization_code \\\n  -d code="$CODE" \\\n` +
          `  -d redirect_uri=${q(app.redirectUris[0] ?? '')} \\\n  -d code_verifier="$CODE_VERIFIER"`,
      });
      break;
    }
    case 'device':
      snippets.push({
        title: 'Ask for a code, show it, then poll (RFC 8628)',
        code:
          `curl -s ${endpointUrl(app.issuer, 'deviceAuthorization')} \\\n  -d client_id=${q(app.clientId)} \\\n${scopeLine}${resourceLine}` +
          `  | tee device.json   # show user_code and verification_uri to the person\n\n` +
          `curl -s ${token} \\\n  -d client_id=${q(app.clientId)} \\\n  -d grant_type=urn:ietf:params:oauth:grant-type:device_code \\\n` +
          `  -d device_code="$(jq -r .device_code device.json)"   # repeat every "interval" seconds`,
      });
      break;
    case 'service':
      snippets.push({
        title: 'An access token with curl (client credentials)',
        code: `curl -s ${token} \\\n${curlAuth(app)}  -d grant_type=client_credentials \\\n${resourceLine}${scopeLine}`.replace(
          / \\\n$/,
          '',
        ),
      });
      break;
    case 'partner':
      snippets.push({
        title: 'Trade a signed assertion for an access token (RFC 7523)',
        code:
          `curl -s ${token} \\\n${curlAuth(app)}  -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer \\\n` +
          `  -d assertion="$ASSERTION" \\\n${resourceLine}${scopeLine}`.replace(/ \\\n$/, ''),
      });
      break;
    case 'gateway':
      snippets.push({
        title: 'Exchange a user’s token for a downstream API (RFC 8693)',
        code:
          `curl -s ${token} \\\n${curlAuth(app)}  -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \\\n` +
          `  -d subject_token="$USER_ACCESS_TOKEN" \\\n  -d subject_token_type=urn:ietf:params:oauth:token-type:access_token \\\n` +
          `${resourceLine}${scopeLine}`.replace(/ \\\n$/, ''),
      });
      break;
  }
  return { discoveryUrl, clientId: app.clientId, env, snippets };
}
