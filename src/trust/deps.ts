import type { AppContext } from '../app.js';
import { RemoteJwksCache } from '../keys/remote-jwks.js';
import { trustedIssuersRepository } from '../store/repositories/trusted-issuers.js';
import { TrustedIssuerCache } from './registry.js';
import type { TrustDeps } from './types.js';

/** The JWT-bearer and token-exchange dependencies, built once per token endpoint. */
export function trustDeps(ctx: AppContext): TrustDeps {
  return {
    issuers: new TrustedIssuerCache(trustedIssuersRepository(ctx.db), ctx.clock, ctx.config.clientCacheTtl),
    remoteJwks: new RemoteJwksCache(ctx.clock, ctx.config.jwksUriAllowPrivate),
    replay: ctx.repos.replay,
    revocations: ctx.repos.revocations,
    users: ctx.repos.users,
    clockSkew: ctx.config.clockSkew,
    maxAssertionLifetime: ctx.config.jwtBearerMaxAssertionLifetime,
  };
}
