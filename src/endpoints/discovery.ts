import type { FastifyInstance } from 'fastify';
import { ENDPOINT_PATHS, type AppContext } from '../app.js';
import { supportedGrantTypes } from '../grants/index.js';
import { ASYMMETRIC_ALGS } from '../keys/algorithms.js';
import { AUTH_METHODS } from '../oauth/client-metadata.js';

/**
 * RFC 8414 and OIDC Discovery 1.0 metadata. It lists exactly what is implemented: every URL
 * derives from ISSUER, and grant types come from the grant dispatch table.
 */
export async function metadata(ctx: AppContext): Promise<Record<string, unknown>> {
  const iss = ctx.config.issuer;
  const scopes = new Set<string>();
  for (const r of (await ctx.registry.resourceMap()).values()) r.scopes.forEach((s) => scopes.add(s));
  const authenticated = AUTH_METHODS.filter((m) => m !== 'none');
  return {
    issuer: iss,
    token_endpoint: `${iss}${ENDPOINT_PATHS.token}`,
    jwks_uri: `${iss}${ENDPOINT_PATHS.jwks}`,
    introspection_endpoint: `${iss}${ENDPOINT_PATHS.introspection}`,
    revocation_endpoint: `${iss}${ENDPOINT_PATHS.revocation}`,
    grant_types_supported: supportedGrantTypes(),
    // No authorization endpoint is implemented yet, so no response type is supported.
    response_types_supported: [],
    scopes_supported: [...scopes].sort(),
    token_endpoint_auth_methods_supported: [...AUTH_METHODS],
    token_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    introspection_endpoint_auth_methods_supported: authenticated,
    introspection_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    revocation_endpoint_auth_methods_supported: [...AUTH_METHODS],
    revocation_endpoint_auth_signing_alg_values_supported: [...ASYMMETRIC_ALGS],
    access_token_signing_alg_values_supported: [ctx.config.accessTokenSigningAlg],
    code_challenge_methods_supported: ['S256'],
  };
}

export function discoveryEndpoints(ctx: AppContext) {
  return async (app: FastifyInstance) => {
    const handler = async () => metadata(ctx);
    const opts = {
      onSend: async (_req: unknown, reply: { header: (k: string, v: string) => unknown }, payload: unknown) => {
        reply.header('cache-control', 'public, max-age=300');
        reply.header('access-control-allow-origin', '*');
        return payload;
      },
    };
    app.get('/.well-known/openid-configuration', opts, handler);
    app.get('/.well-known/oauth-authorization-server', opts, handler);
  };
}
