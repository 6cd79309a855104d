import type { FormParams } from '../domain/form.js';
import type { ClientRecord } from '../domain/client.js';
import { AuthorizationPageError, checkClient } from '../interaction/authorization-request.js';
import { OAuthError } from '../oauth/errors.js';
import type { PushedRequestsRepository } from '../store/repositories/pushed-requests.js';
import { hashToken } from '../tokens/opaque.js';
import { verifyRequestObject, type RequestObjectDeps } from '../trust/request-object.js';

/** RFC 9126 §2.2: the URN namespace of the request_uri values /par issues. */
export const PAR_REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';

/** What /authorize resolves `request_uri` (RFC 9126) and `request` (RFC 9101) with. */
export interface IndirectRequestDeps {
  requestObjects: RequestObjectDeps;
  pushedRequests: Pick<PushedRequestsRepository, 'take'>;
  now(): number;
}

/** The parameters to validate, and how they arrived. */
export interface ResolvedParams {
  params: FormParams;
  pushed: boolean;
  signed: boolean;
}

/**
 * A refusal at /authorize before any redirect URI can be trusted (the one in the request object
 * or the pushed request is not known yet): a page naming the RFC error code, never a redirect.
 */
function page(title: string, code: string, description: string): AuthorizationPageError {
  return new AuthorizationPageError(title, `${description} (error: ${code}). Go back to the application and start again.`);
}

const one = (params: FormParams, name: string) => {
  const v = params[name];
  if (Array.isArray(v)) throw page('Invalid request', 'invalid_request', `The ${name} parameter is repeated`);
  return v;
};

/**
 * /authorize's `request_uri` and `request` (RFC 9126 §4, RFC 9101 §5–6). A request_uri must be
 * one /par issued to this client: taken once (single use), refused as invalid_request_uri when
 * unknown, used, expired or another client's; any other request_uri is request_uri_not_supported
 * (no fetching by reference). A request object is verified and then only its parameters count
 * (RFC 9101 §6.3); response_type sent outside it must agree with it (OIDC Core §6.1). Plain
 * requests pass through.
 */
export async function resolveIndirectRequest(
  deps: IndirectRequestDeps,
  params: FormParams,
  found: ClientRecord | undefined,
): Promise<ResolvedParams> {
  const requestUri = one(params, 'request_uri');
  const request = one(params, 'request');
  if (requestUri === undefined && request === undefined) return { params, pushed: false, signed: false };
  const client = checkClient(params, found);
  if (requestUri !== undefined && request !== undefined) {
    throw page('Invalid request', 'invalid_request', 'The request carries both request and request_uri; send one');
  }
  if (requestUri === undefined) return fromRequestObject(deps, params, client, request ?? '');
  return fromPushedRequest(deps, client, requestUri);
}

/** RFC 9126 §4: the pushed request a request_uri stands for, taken once by the client it was pushed by. */
async function fromPushedRequest(deps: IndirectRequestDeps, client: ClientRecord, requestUri: string): Promise<ResolvedParams> {
  if (!requestUri.startsWith(PAR_REQUEST_URI_PREFIX) || requestUri.length === PAR_REQUEST_URI_PREFIX.length) {
    throw page(
      'Request not supported',
      'request_uri_not_supported',
      'This server accepts only request_uri values from its pushed authorization request endpoint; it does not fetch requests by reference',
    );
  }
  const taken = await deps.pushedRequests.take(
    hashToken(requestUri.slice(PAR_REQUEST_URI_PREFIX.length)),
    client.clientId,
    new Date(deps.now()),
  );
  if (typeof taken === 'string') {
    const why = {
      unknown: 'The request_uri is unknown or has already been used (each is good for one authorization request)',
      expired: 'The request_uri has expired',
      other_client: 'The request_uri was issued to another client',
    }[taken];
    throw page('Invalid request', 'invalid_request_uri', why);
  }
  return { params: taken.params, pushed: true, signed: taken.signed };
}

/** RFC 9101 §6.3: a verified request object's parameters, and only those, are the request. */
async function fromRequestObject(
  deps: IndirectRequestDeps,
  params: FormParams,
  client: ClientRecord,
  request: string,
): Promise<ResolvedParams> {
  let inner: FormParams;
  try {
    inner = await verifyRequestObject(deps.requestObjects, client, request, deps.now());
  } catch (err) {
    if (err instanceof OAuthError) throw page('Invalid request', err.code, err.description);
    throw err;
  }
  const outerType = one(params, 'response_type');
  if (outerType !== undefined && inner.response_type !== undefined && inner.response_type !== outerType) {
    throw page('Invalid request', 'invalid_request_object', 'response_type outside the request object differs from the one inside it');
  }
  return { params: inner, pushed: false, signed: true };
}
