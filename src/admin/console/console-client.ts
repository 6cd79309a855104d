/**
 * The admin console signs operators in through Latchkey's own authorization code flow (issue 14
 * item 7), as a built-in client ensured at start-up.
 *
 * Confidential, with a secret derived from LATCHKEY_SECRET (keys/secret.ts), rather than public:
 * the console redeems its codes in-process, so the secret is never sent anywhere, and it exists
 * so that nobody else can redeem a code for this client at /token (a public client would let
 * anyone holding a leaked code and its verifier do so). PKCE (RFC 7636) and a nonce still bind
 * each code to the browser that asked for it. Its only redirect URI is ${ISSUER}/admin/callback;
 * consent is skipped (first-party), and it asks for `openid` only: the console calls the admin
 * services in-process, with the operator as the audit actor, so it needs no access token.
 */
import type { ServerSecrets } from '../../keys/secret.js';
import { hashClientSecret } from '../../keys/secret.js';
import { clientMetadataSchema, type StoredClientMetadata } from '../../oauth/client-metadata.js';

export const CONSOLE_CLIENT_ID = 'latchkey-console';
export const CONSOLE_PATH = '/admin';
export const CONSOLE_CALLBACK_PATH = '/admin/callback';

export const consoleRedirectUri = (issuer: string): string => `${issuer}${CONSOLE_CALLBACK_PATH}`;

export function consoleClientMetadata(issuer: string): StoredClientMetadata {
  const { client_secret: _none, ...metadata } = clientMetadataSchema.parse({
    client_id: CONSOLE_CLIENT_ID,
    client_name: 'Latchkey admin console',
    redirect_uris: [consoleRedirectUri(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid',
    skip_consent: true,
  });
  return metadata;
}

/** Creates or repairs the console client; unchanged rows are not written (safe on every start, in every process). */
export async function ensureConsoleClient(
  clients: {
    upsert(id: string, m: StoredClientMetadata, secretHash: string | null | undefined): Promise<'created' | 'updated' | 'unchanged'>;
  },
  secrets: ServerSecrets,
  issuer: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  return clients.upsert(CONSOLE_CLIENT_ID, consoleClientMetadata(issuer), hashClientSecret(secrets, secrets.consoleClientSecret));
}
