/**
 * The account page (/account) signs people in through Latchkey's own authorization code flow, as
 * the built-in client `latchkey-account`, ensured at start-up like the console's.
 *
 * Why a client, when /account reads the browser's single sign-on session: the sign-in (and the
 * re-authentication a change needs, prompt=login) then goes through the one login page with
 * everything it does — throttles, the second factor, CSRF, session rotation — instead of a second
 * copy of it. The callback only checks `state` (RFC 6749 §10.12) and goes back to /account; the
 * code it receives is never redeemed: the client is confidential with a secret derived from
 * LATCHKEY_SECRET that never leaves the server, so nobody can redeem it either, and it expires
 * within AUTHORIZATION_CODE_TTL. Consent is skipped (first-party); scope `openid` only.
 */
import { clientMetadataSchema, type StoredClientMetadata } from '../oauth/client-metadata.js';
import { ACCOUNT_PATH } from './paths.js';

export const ACCOUNT_CLIENT_ID = 'latchkey-account';
export const ACCOUNT_CALLBACK_PATH = `${ACCOUNT_PATH}/callback`;
export const accountRedirectUri = (issuer: string): string => `${issuer}${ACCOUNT_CALLBACK_PATH}`;

export function accountClientMetadata(issuer: string): StoredClientMetadata {
  const { client_secret: _none, ...metadata } = clientMetadataSchema.parse({
    client_id: ACCOUNT_CLIENT_ID,
    client_name: 'Your account',
    redirect_uris: [accountRedirectUri(issuer)],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    scope: 'openid',
    skip_consent: true,
  });
  return metadata;
}

/** Creates or repairs the account client; unchanged rows are not written (safe on every start, in every process). */
export async function ensureAccountClient(
  clients: {
    upsert(id: string, m: StoredClientMetadata, secretHash: string | null | undefined): Promise<'created' | 'updated' | 'unchanged'>;
  },
  secretHash: string,
  issuer: string,
): Promise<'created' | 'updated' | 'unchanged'> {
  return clients.upsert(ACCOUNT_CLIENT_ID, accountClientMetadata(issuer), secretHash);
}
