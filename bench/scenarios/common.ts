import { randomBytes } from 'node:crypto';
import type { BenchResource, BenchUser } from '../fixtures.js';
import type { TargetId } from '../targets.js';
import type { VerifyInput } from './types.js';

/** The resource server every bench client gets tokens for. */
export const API = 'https://api.example.com';
export const apiResource: BenchResource = { identifier: API, scopes: ['api:read', 'api:write'] };

/** Registered for the code clients; never contacted (redirects are read, not followed). */
export const REDIRECT_URI = 'https://app.example.com/callback';

/** The person who signs in. Fixed, not random: the same value is configured in every target. */
export const BENCH_USER: BenchUser = { username: 'bench-user', password: 'bench-user-password-0123456789' };

export const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' } as const;

/** A form body; values are percent-encoded. */
export const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

/** A random base64url string of `bytes` random bytes (32 bytes → 43 characters). */
export const random = (bytes = 32) => randomBytes(bytes).toString('base64url');

export function decodeJwtPart(part: string | undefined, what = 'access_token'): Record<string, unknown> {
  if (!part) throw new Error(`${what} is not a JWT (expected three dot-separated parts)`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** A JWT's header and payload, unverified (the bench checks shape, not signatures). */
export function decodeJwt(jwt: unknown, what = 'access_token'): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = String(jwt).split('.');
  return { header: decodeJwtPart(h, what), payload: decodeJwtPart(p, what) };
}

export function parseTokenResponse(res: VerifyInput): Record<string, unknown> {
  if (res.status !== 200) throw new Error(`expected HTTP 200, got ${res.status}: ${res.body.slice(0, 500)}`);
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    throw new Error(`response is not JSON: ${res.body.slice(0, 500)}`);
  }
  if (typeof json.access_token !== 'string' || !json.access_token) {
    throw new Error(`no access_token in ${res.body.slice(0, 500)}`);
  }
  return json;
}

/**
 * The checks every token scenario makes on a real server's answer: HTTP 200, a Bearer ES256 JWT
 * access token for the API with the expected scope. Returns the parsed body and a summary.
 */
export function checkAccessToken(
  res: VerifyInput,
  want: { scope: string; audience?: string },
): { json: Record<string, unknown>; payload: Record<string, unknown>; problems: string[]; summary: string } {
  const json = parseTokenResponse(res);
  const { header, payload } = decodeJwt(json.access_token);
  const aud = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  const audience = want.audience ?? API;
  const problems: string[] = [];
  if (header.alg !== 'ES256') problems.push(`alg is ${String(header.alg)}, expected ES256`);
  if (!aud.includes(audience)) problems.push(`aud is ${JSON.stringify(payload.aud)}, expected ${audience}`);
  const scopes = new Set(typeof payload.scope === 'string' ? payload.scope.split(' ') : []);
  const missing = want.scope.split(' ').filter((s) => !scopes.has(s));
  if (missing.length) problems.push(`scope claim is ${JSON.stringify(payload.scope)}, expected ${JSON.stringify(want.scope)}`);
  if (String(json.token_type).toLowerCase() !== 'bearer') problems.push(`token_type is ${String(json.token_type)}`);
  const summary = `HTTP 200, JWT ${String(header.alg)} typ=${String(header.typ)} aud=${audience} scope=${String(payload.scope)}`;
  return { json, payload, problems, summary };
}

/** Throws with the answer when there are problems. */
export function failOn(problems: string[], res: VerifyInput): void {
  if (problems.length) throw new Error(`${problems.join('; ')}\n${res.body.slice(0, 800)}`);
}

/** The bare route answers every POST /token with the same JSON: only its status is checked. */
export function verifyBare(res: VerifyInput): string {
  parseTokenResponse(res);
  return 'HTTP 200, constant JSON';
}

export const isBare = (t: TargetId) => t === 'bare-fastify';

/** Latchkey, however many processes it runs. */
export const isLatchkey = (t: TargetId) => t === 'latchkey' || t === 'latchkey-workers2';

/** node-oidc-provider, whatever its storage. */
export const isOidcProvider = (t: TargetId) => t === 'oidc-provider' || t === 'oidc-provider-pg';
