import type { ClientRecord } from '../domain/client.js';
import { CLIENT_AUTHENTICATION_FAILED, invalidClient, invalidRequest, OAuthError } from '../oauth/errors.js';
import type { AuthMethod } from '../oauth/client-metadata.js';
import { verifySecret } from './client-secret.js';
import { parseBasicCredentials } from './client-secret-basic.js';
import { assertionClientId, CLIENT_ASSERTION_TYPE, verifyClientAssertion } from './private-key-jwt.js';
import { addressKey, type Bucket, type FailureLimiter } from '../limits/failure-limiter.js';
import type { AuthenticatedClient, ClientAuthDeps, ClientAuthFailure, ClientAuthInput, Credentials } from './types.js';
import type { FormParams } from '../domain/form.js';

function single(params: FormParams, name: string): string | undefined {
  const v = params[name];
  if (Array.isArray(v)) throw invalidRequest(`the "${name}" parameter is repeated; send it once`);
  return v;
}

const METHOD_HINT: Record<AuthMethod, string> = {
  client_secret_basic: 'send client_id and client_secret in an HTTP Basic Authorization header',
  client_secret_post: 'send client_id and client_secret in the form body',
  private_key_jwt: `send a client_assertion signed with its registered key and client_assertion_type=${CLIENT_ASSERTION_TYPE}`,
  none: 'send only client_id (and use PKCE)',
};

/** Reads which method the request uses, refusing more than one (RFC 6749 §2.3). */
export function readCredentials(input: ClientAuthInput): Credentials {
  const { authorization, params } = input;
  const clientIdParam = single(params, 'client_id');
  const secretParam = single(params, 'client_secret');
  const assertion = single(params, 'client_assertion');
  const assertionType = single(params, 'client_assertion_type');

  let basic: { clientId: string; secret: string } | undefined;
  if (authorization !== undefined) {
    if (!/^basic /i.test(authorization)) {
      throw invalidClient('the Authorization header must use the Basic scheme at this endpoint', true);
    }
    basic = parseBasicCredentials(authorization);
  }
  const used = [
    basic && 'client_secret_basic',
    secretParam !== undefined && 'client_secret_post',
    (assertion !== undefined || assertionType !== undefined) && 'private_key_jwt',
  ].filter(Boolean);
  if (used.length > 1) {
    throw invalidRequest(`the request uses more than one client authentication method (${used.join(', ')}); use exactly one`);
  }
  if (basic) {
    if (clientIdParam !== undefined && clientIdParam !== basic.clientId) {
      throw invalidRequest('client_id in the body differs from the client_id in the Authorization header');
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (secretParam !== undefined) {
    if (!clientIdParam) throw invalidClient('client_secret was sent without client_id');
    return { method: 'client_secret_post', clientId: clientIdParam, secret: secretParam };
  }
  if (assertion !== undefined || assertionType !== undefined) {
    if (assertionType !== CLIENT_ASSERTION_TYPE) {
      throw invalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
    }
    if (!assertion) throw invalidRequest('client_assertion_type was sent without client_assertion');
    const clientId = assertionClientId(assertion);
    if (clientIdParam !== undefined && clientIdParam !== clientId) {
      throw invalidClient('client_id differs from the "sub" of client_assertion');
    }
    return { method: 'private_key_jwt', clientId, assertion };
  }
  if (clientIdParam) return { method: 'none', clientId: clientIdParam };
  throw invalidClient(
    'no client authentication was sent; authenticate with HTTP Basic, client_secret_post, private_key_jwt, or send client_id for a public client',
  );
}

export interface Authenticator {
  authenticate(input: ClientAuthInput): Promise<AuthenticatedClient>;
}

/** The client-authentication limit: failures per client and address, in the shared failure limiter. */
export interface ClientAuthLimit {
  limiter: FailureLimiter;
  limit: number;
}

/**
 * The one entry point of client authentication: reads the credentials, finds the client, checks
 * that it uses the method it registered, and verifies.
 *
 * Failures are limited per client and address (IPv6 per /64), and only where there is something
 * to guess: a wrong secret of a client that has one, a bad assertion of a private_key_jwt client.
 * A public client has no secret, so bogus `client_secret`s sent with its id are refused without
 * counting, and a request that sends only its `client_id` is never throttled: otherwise anyone
 * could lock a public client out of its own code exchanges, polling and refreshes. Unknown
 * client_ids are not counted either (nothing to guess, and no row per made-up id).
 */
export function createAuthenticator(
  deps: ClientAuthDeps,
  findClient: (clientId: string) => Promise<ClientRecord | undefined>,
  limit: ClientAuthLimit,
  onFailure: (failure: ClientAuthFailure) => void = () => {},
): Authenticator {
  const buckets = (clientId: string, ip: string): Bucket[] => [{ key: `client_auth:${clientId}:${addressKey(ip)}`, limit: limit.limit }];
  return {
    async authenticate(input) {
      const creds = readCredentials(input);
      const triedBasic = creds.method === 'client_secret_basic';
      const wait = creds.method === 'none' ? 0 : limit.limiter.retryAfter(buckets(creds.clientId, input.ip));
      const failed = (reason: ClientAuthFailure['reason']) =>
        onFailure({ clientId: creds.clientId, ip: input.ip, method: creds.method, reason });
      if (wait > 0) {
        failed('rate_limited');
        throw new OAuthError(
          'invalid_client',
          `too many failed authentication attempts for this client from your address; retry after ${wait} seconds`,
          {
            status: 429,
            headers: { 'retry-after': String(wait) },
          },
        );
      }
      let guessed = false;
      // What went wrong, for the security event: the answer itself does not say (issue 12 item 4).
      let stage: ClientAuthFailure['reason'] = 'unknown_client';
      try {
        const client = await findClient(creds.clientId);
        if (!client) throw invalidClient('client authentication failed: no client is registered with this client_id', triedBasic);
        stage = 'method_mismatch';
        const registered = client.metadata.token_endpoint_auth_method;
        if (registered !== creds.method) {
          throw invalidClient(`client "${client.clientId}" is registered for ${registered}: ${METHOD_HINT[registered]}`, triedBasic);
        }
        guessed = true;
        stage = 'invalid_credentials';
        if (creds.method === 'client_secret_basic' || creds.method === 'client_secret_post') {
          verifySecret(deps.secrets, client, creds.secret, triedBasic, deps.clock.now());
        } else if (creds.method === 'private_key_jwt') {
          await verifyClientAssertion(deps, client, creds.assertion, input.endpointUrl);
        }
        return { client, method: creds.method };
      } catch (err) {
        if (err instanceof OAuthError && err.code === 'invalid_client') {
          failed(stage);
          if (guessed && creds.method !== 'none') await limit.limiter.recordFailure(buckets(creds.clientId, input.ip));
          // Once the client_id has been looked up, every failure reads the same (RFC 6749 §5.2):
          // the reason — no such client, another method, a wrong secret, a rejected assertion —
          // is the error's detail, for the log only.
          throw invalidClient(CLIENT_AUTHENTICATION_FAILED, triedBasic, err.detail ?? err.description);
        }
        throw err;
      }
    },
  };
}
