import type { FastifyPluginCallback, RouteShorthandOptions } from 'fastify';
import { ENDPOINT_PATHS } from './paths.js';
import { grantTypesOf, type GrantTable } from '../grants/index.js';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { AUTH_METHODS } from '../oauth/client-metadata.js';
import { OIDC_SCOPES, SCOPE_CLAIMS } from '../users/claims.js';
import { SIGNING_ALGS } from '../keys/algorithms.js';
import { DPOP_SIGNING_ALGS } from '../tokens/dpop-proof.js';
import type { Config } from '../config.js';
import { ACR_VALUES_SUPPORTED } from '../interaction/second-factor.js';
import type { Registry } from '../clients/registry.js';

/**
 * RFC 8414 and OIDC Discovery 1.0 metadata. It lists exactly what is implemented: every URL
 * derives from ISSUER, and grant types come from the grant dispatch table.
 */
export async function metadata(ctx: DiscoveryEndpointsOptions): Promise<Record<string, unknown>> {
  const iss = ctx.config.issuer;
  const scopes = new Set<string>(OIDC_SCOPES);
  for (const r of (await ctx.registry.resourceMap()).values()) r.scopes.forEach((s) => scopes.add(s));
  const authenticated = AUTH_METHODS.filter((m) => m !== 'none');
  return {
    issuer: iss,
    authorization_endpoint: `${iss}${ENDPOINT_PATHS.authorization}`,
    token_endpoint: `${iss}${ENDPOINT_PATHS.token}`,
    userinfo_endpoint: `${iss}${ENDPOINT_PATHS.userinfo}`,
    jwks_uri: `${iss}${ENDPOINT_PATHS.jwks}`,
    end_session_endpoint: `${iss}${ENDPOINT_PATHS.endSession}`,
    device_authorization_endpoint: `${iss}${ENDPOINT_PATHS.deviceAuthorization}`,
    introspection_endpoint: `${iss}${ENDPOINT_PATHS.introspection}`,
    revocation_endpoint: `${iss}${ENDPOINT_PATHS.revocation}`,
    grant_types_supported: grantTypesOf(ctx.grants),
    response_types_supported: ['code', 'code id_token'],
    response_modes_supported: ['query', 'fragment', 'form_post'],
    scopes_supported: [...scopes].sort(),
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'nonce',
      'azp',
      'at_hash',
      'c_hash',
      'amr',
      'acr',
      ...new Set(Object.values(SCOPE_CLAIMS).flat()),
    ],
    subject_types_supported: ['public'],
    acr_values_supported: [...ACR_VALUES_SUPPORTED],
    id_token_signing_alg_values_supported: [...SIGNING_ALGS],
    prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
    authorization_response_iss_parameter_supported: true,
    claims_parameter_supported: false,
    // RFC 9101: signed request objects by value; by reference only request_uris /par issued,
    // which RFC 9126 §5 says request_uri_parameter_supported does not cover (no fetching).
    request_parameter_supported: true,
    request_object_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    request_uri_parameter_supported: false,
    require_request_uri_registration: false,
    pushed_authorization_request_endpoint: `${iss}${ENDPOINT_PATHS.pushedAuthorizationRequest}`,
    require_pushed_authorization_requests: ctx.config.requirePar,
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    introspection_endpoint_auth_methods_supported: authenticated,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    access_token_signing_alg_values_supported: [ctx.config.accessTokenSigningAlg],
    code_challenge_methods_supported: ['S256'],
    // RFC 9449 §5.1: the algorithms a DPoP proof may be signed with.
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
  };
}

export interface DiscoveryEndpointsOptions {
  config: Pick<Config, 'issuer' | 'accessTokenSigningAlg' | 'requirePar'>;
  registry: Pick<Registry, 'resourceMap'>;
  /** The grant registry: grant_types_supported lists exactly its grant types. */
  grants: GrantTable;
}

export const discoveryEndpoints: FastifyPluginCallback<DiscoveryEndpointsOptions> = (app, ctx, done) => {
  const handler = async () => metadata(ctx);
  const opts: RouteShorthandOptions = {
    onSend: (_req, reply, payload, done) => {
      reply.header('cache-control', 'public, max-age=300');
      done(null, payload);
    },
  };
  app.get('/.well-known/openid-configuration', opts, handler);
  app.get('/.well-known/oauth-authorization-server', opts, handler);
  done();
};
