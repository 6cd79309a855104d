/**
 * The weighted mix. `connections` workers each keep one request in flight on a keep-alive
 * connection: pick an operation by weight, send it, check the answer, record latency and outcome.
 * Time spent waiting for a code or an idle refresh chain is not part of any latency.
 */
import { SettingError } from '../test/support/env.js';
import { performance } from 'node:perf_hooks';
import { API, CALLBACK, type Credentials } from './server.js';
import { ChainPool, CodePool, TokenRing, type MintedCode } from './flows.js';
import { basicAuth } from '../test/support/basic-auth.js';
import { elapsedMs, errorCode, form, type HttpClient, type HttpResult } from './http.js';
import { EndpointStats, type Outcome } from './stats.js';

export const OPERATIONS = ['client_credentials', 'authorization_code', 'refresh_token', 'introspect', 'jwks'] as const;
export type OpId = (typeof OPERATIONS)[number];

export const OP_LABELS: Record<OpId | 'authorize', string> = {
  client_credentials: 'POST /token client_credentials',
  authorization_code: 'POST /token authorization_code',
  refresh_token: 'POST /token refresh_token',
  introspect: 'POST /introspect',
  jwks: 'GET /jwks',
  authorize: 'GET /authorize prompt=none (minter)',
};

export const DEFAULT_MIX: Record<OpId, number> = {
  client_credentials: 40,
  authorization_code: 15,
  refresh_token: 15,
  introspect: 20,
  jwks: 10,
};

/** "client_credentials=40,authorization_code=15,…" (short names cc, code, refresh accepted). */
export function parseMix(raw: string | undefined): Record<OpId, number> {
  if (!raw?.trim()) return { ...DEFAULT_MIX };
  const alias: Record<string, OpId> = { cc: 'client_credentials', code: 'authorization_code', refresh: 'refresh_token' };
  const mix = Object.fromEntries(OPERATIONS.map((o) => [o, 0])) as Record<OpId, number>;
  for (const part of raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=').map((s) => s.trim());
    const id = (alias[k ?? ''] ?? k) as OpId;
    const n = Number(v);
    if (!OPERATIONS.includes(id) || !Number.isFinite(n) || n < 0) {
      throw new SettingError(
        `SOAK_MIX: bad entry "${part}"; expected name=weight with name one of ${OPERATIONS.join(', ')} (or cc, code, refresh)`,
      );
    }
    mix[id] = n;
  }
  if (OPERATIONS.every((o) => mix[o] === 0)) throw new SettingError('SOAK_MIX: every weight is 0');
  return mix;
}

interface Result {
  ms: number;
  outcome: Outcome;
}

type Json = Record<string, unknown>;

function json(r: HttpResult): Json | string {
  try {
    const v = JSON.parse(r.body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : `not a JSON object: ${r.body.slice(0, 200)}`;
  } catch {
    return `not JSON: ${r.body.slice(0, 200)}`;
  }
}

/** 200 and a JSON object with the given string fields; else the unexpected outcome. */
function expectJson(r: HttpResult, fields: string[]): Json | Outcome {
  if (r.status < 200 || r.status > 299) return { kind: 'status', status: r.status, body: r.body };
  const j = json(r);
  if (typeof j === 'string') return { kind: 'invalid', reason: j };
  const missing = fields.filter((f) => typeof j[f] !== 'string' || !j[f]);
  if (missing.length) return { kind: 'invalid', reason: `no ${missing.join(', ')} in ${r.body.slice(0, 200)}` };
  return j;
}

const isOutcome = (x: Json | Outcome): x is Outcome => {
  const kind = (x as { kind?: unknown }).kind;
  return typeof kind === 'string' && ['ok', 'status', 'transport', 'invalid'].includes(kind);
};

export interface MixContext {
  client: HttpClient;
  creds: Credentials;
  codes: CodePool;
  chains: ChainPool;
  ring: TokenRing;
}

const FORM = 'application/x-www-form-urlencoded';

/** Exchanges a code; used by the mix and, unrecorded, to seed the first chains. */
export async function exchangeCode(ctx: MixContext, c: MintedCode): Promise<Result> {
  let r: HttpResult;
  try {
    r = await ctx.client.request(
      'POST',
      '/token',
      { authorization: basicAuth(ctx.creds.web.id, ctx.creds.web.secret), 'content-type': FORM, accept: 'application/json' },
      form({ grant_type: 'authorization_code', code: c.code, redirect_uri: CALLBACK, code_verifier: c.verifier }),
    );
  } catch (err) {
    return { ms: elapsedMs(err), outcome: { kind: 'transport', code: errorCode(err) } };
  }
  const j = expectJson(r, ['access_token', 'refresh_token', 'id_token']);
  if (isOutcome(j)) return { ms: r.ms, outcome: j };
  ctx.ring.add(j.access_token as string);
  ctx.chains.offer(j.refresh_token as string);
  return { ms: r.ms, outcome: { kind: 'ok' } };
}

async function send(
  ctx: MixContext,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  check: (r: HttpResult) => Outcome,
): Promise<Result> {
  let r: HttpResult;
  try {
    r = await ctx.client.request(method, path, headers, body);
  } catch (err) {
    return { ms: elapsedMs(err), outcome: { kind: 'transport', code: errorCode(err) } };
  }
  return { ms: r.ms, outcome: check(r) };
}

/** One request of the given kind; undefined when the run ended while it waited for a credential. */
export function operations(ctx: MixContext): Record<OpId, () => Promise<Result | undefined>> {
  const svcAuth = basicAuth(ctx.creds.svc.id, ctx.creds.svc.secret);
  const webAuth = basicAuth(ctx.creds.web.id, ctx.creds.web.secret);
  const ccBody = form({ grant_type: 'client_credentials', scope: 'api:read' });
  return {
    client_credentials: () =>
      send(ctx, 'POST', '/token', { authorization: svcAuth, 'content-type': FORM, accept: 'application/json' }, ccBody, (r) => {
        const j = expectJson(r, ['access_token']);
        if (isOutcome(j)) return j;
        ctx.ring.add(j.access_token as string);
        return { kind: 'ok' };
      }),

    async authorization_code() {
      const c = await ctx.codes.take();
      return c ? exchangeCode(ctx, c) : undefined;
    },

    async refresh_token() {
      const chain = await ctx.chains.take();
      if (!chain) return undefined;
      const res = await send(
        ctx,
        'POST',
        '/token',
        { authorization: webAuth, 'content-type': FORM, accept: 'application/json' },
        form({ grant_type: 'refresh_token', refresh_token: chain.token }),
        (r) => {
          const j = expectJson(r, ['access_token', 'refresh_token']);
          if (isOutcome(j)) return j;
          if (j.refresh_token === chain.token) return { kind: 'invalid', reason: 'the refresh token was not rotated' };
          ctx.ring.add(j.access_token as string);
          ctx.chains.advance(chain, j.refresh_token as string);
          return { kind: 'ok' };
        },
      );
      if (res.outcome.kind !== 'ok') ctx.chains.lose();
      return res;
    },

    async introspect() {
      const token = ctx.ring.pick();
      if (!token) return undefined;
      return send(
        ctx,
        'POST',
        '/introspect',
        { authorization: svcAuth, 'content-type': FORM, accept: 'application/json' },
        form({ token, token_type_hint: 'access_token' }),
        (r) => {
          if (r.status !== 200) return { kind: 'status', status: r.status, body: r.body };
          const j = json(r);
          if (typeof j === 'string') return { kind: 'invalid', reason: j };
          // Every access token the soak got is live (10-minute lifetime, nothing revoked).
          if (j.active !== true) return { kind: 'invalid', reason: `an issued access token introspected as ${r.body.slice(0, 200)}` };
          const aud = Array.isArray(j.aud) ? j.aud : [j.aud];
          if (!aud.includes(API)) return { kind: 'invalid', reason: `aud ${JSON.stringify(j.aud)} lacks ${API}` };
          return { kind: 'ok' };
        },
      );
    },

    jwks: () =>
      send(ctx, 'GET', '/jwks', { accept: 'application/json' }, undefined, (r) => {
        if (r.status !== 200) return { kind: 'status', status: r.status, body: r.body };
        const j = json(r);
        if (typeof j === 'string') return { kind: 'invalid', reason: j };
        if (!Array.isArray(j.keys) || j.keys.length === 0) return { kind: 'invalid', reason: `no keys in ${r.body.slice(0, 200)}` };
        return { kind: 'ok' };
      }),
  };
}

/** Weighted choice over the operations with weight > 0. */
export function picker(mix: Record<OpId, number>): () => OpId {
  const ops = OPERATIONS.filter((o) => mix[o] > 0);
  const total = ops.reduce((s, o) => s + mix[o], 0);
  const cumulative = ops.map(
    (
      (acc) => (o: OpId) =>
        (acc += mix[o] / total)
    )(0),
  );
  return () => {
    const x = Math.random();
    const i = cumulative.findIndex((c) => x < c);
    return ops[i < 0 ? ops.length - 1 : i]!;
  };
}

/** Runs the workers until `deadline` (performance.now() ms); each records into `stats[op]`. */
export async function runWorkers(opts: {
  connections: number;
  mix: Record<OpId, number>;
  ops: Record<OpId, () => Promise<Result | undefined>>;
  stats: Record<OpId, EndpointStats>;
  deadline: number;
  now: () => number;
  stopped: () => boolean;
}): Promise<void> {
  const pick = picker(opts.mix);
  const worker = async () => {
    while (performance.now() < opts.deadline && !opts.stopped()) {
      const op = pick();
      const res = await opts.ops[op]();
      if (!res || opts.stopped()) continue;
      opts.stats[op].record(opts.now(), res.ms, res.outcome);
      // Back off a little on connection-level failures so a dead server does not spin the loop.
      if (res.outcome.kind === 'transport') await new Promise((r) => setTimeout(r, 50));
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
}
