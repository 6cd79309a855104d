import type { FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { OAuthError } from '../oauth/errors.js';
import { publicErrorDescription } from '../oauth/error-description.js';
import type { DpopNonces } from '../tokens/dpop-nonce.js';
import { DPOP_SIGNING_ALGS, DpopRejected, PROOF_MAX_AGE, verifyDpopProof, type VerifiedProof } from '../tokens/dpop-proof.js';
import type { DpopProofsRepository } from '../store/repositories/dpop-proofs.js';

/**
 * Where a DPoP proof is checked for an HTTP request (RFC 9449 §4.3): the token endpoint (errors
 * as RFC 6749 §5.2 JSON, status 400) and a protected resource, /userinfo (§7.1: 401 with a
 * `WWW-Authenticate: DPoP` challenge). The proof's claims are judged by tokens/dpop-proof.ts, the
 * nonce by tokens/dpop-nonce.ts, and the jti's single use by the database, last, so a proof
 * refused for any other reason does not use up its jti.
 */
export interface DpopVerifierOptions {
  clock: Clock;
  clockSkew: number;
  nonces: DpopNonces;
  /** DPOP_NONCE=required: every proof must carry a nonce this server issued (§8). */
  nonceRequired: boolean;
  proofs: DpopProofsRepository;
}

/** How the caller answers a refusal. */
export type DpopAudience = 'token' | 'resource';

/** `algs` of a DPoP challenge (§7.1): the algorithms a proof may use. */
export const DPOP_ALGS_PARAM = DPOP_SIGNING_ALGS.join(' ');

/** The challenge of a resource's DPoP refusal (§7.1), or the bare challenge when `code` is undefined. */
export function dpopChallenge(code?: string, description?: string): string {
  const parts = [`algs="${DPOP_ALGS_PARAM}"`];
  if (code) parts.unshift(`error="${code}"`, `error_description="${publicErrorDescription(description ?? '').replace(/'/g, '')}"`);
  return `DPoP ${parts.join(', ')}`;
}

export interface DpopVerifier {
  /**
   * The request's verified proof, or undefined when it carries no DPoP header. `url` is the
   * endpoint's URL as the client addresses it (ISSUER + path: behind TRUST_PROXY the external
   * URL, never the Host header); `accessToken` is given at a resource (`ath`, §4.3 item 12).
   */
  verify(req: FastifyRequest, url: string, audience: DpopAudience, accessToken?: string): Promise<VerifiedProof | undefined>;
  /** Headers every answer to a DPoP request carries: a fresh `DPoP-Nonce` when nonces are required (§8.2). */
  responseHeaders(): Record<string, string>;
}

export function dpopVerifier(o: DpopVerifierOptions): DpopVerifier {
  const refuse = (
    audience: DpopAudience,
    code: 'invalid_dpop_proof' | 'use_dpop_nonce',
    description: string,
    headers: Record<string, string> = {},
  ) =>
    new OAuthError(code, description, {
      status: audience === 'token' ? 400 : 401,
      headers: audience === 'token' ? headers : { ...headers, 'www-authenticate': dpopChallenge(code, description) },
    });
  return {
    async verify(req, url, audience, accessToken) {
      const raw = req.headers.dpop;
      if (raw === undefined) return undefined;
      // Node joins a repeated header with ", "; a JWT has no comma (§4.3 item 1: exactly one).
      if (typeof raw !== 'string' || raw.includes(',')) throw refuse(audience, 'invalid_dpop_proof', 'send exactly one DPoP header');
      const now = o.clock.now();
      let proof: VerifiedProof;
      try {
        proof = await verifyDpopProof(raw.trim(), {
          method: req.method,
          url,
          now,
          clockSkew: o.clockSkew,
          ...(accessToken !== undefined ? { accessToken } : {}),
        });
      } catch (err) {
        if (err instanceof DpopRejected) throw refuse(audience, 'invalid_dpop_proof', err.reason);
        throw err;
      }
      // §8: a nonce sent is checked even when not required; a missing or stale one asks for a fresh one.
      if (proof.nonce !== undefined ? !o.nonces.accepts(proof.nonce, now) : o.nonceRequired) {
        throw refuse(
          audience,
          'use_dpop_nonce',
          proof.nonce === undefined
            ? 'this server requires a nonce in DPoP proofs: make a new proof with the nonce in the DPoP-Nonce header'
            : 'the DPoP proof nonce is not valid or has expired: make a new proof with the nonce in the DPoP-Nonce header',
          { 'dpop-nonce': o.nonces.current(now) },
        );
      }
      // Kept until the proof could no longer pass the iat check anyway.
      const until = new Date(Math.max(now, proof.iat * 1000) + (PROOF_MAX_AGE + o.clockSkew) * 1000);
      if (!(await o.proofs.firstUse(proof.jkt, proof.jti, until)))
        throw refuse(
          audience,
          'invalid_dpop_proof',
          'the DPoP proof was already used: its jti must be unique, make a new proof for each request',
        );
      return proof;
    },
    responseHeaders() {
      return o.nonceRequired ? { 'dpop-nonce': o.nonces.current(o.clock.now()) } : {};
    },
  };
}
