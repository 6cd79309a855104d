import { clientCredentials } from './client-credentials.js';
import type { Scenario } from './types.js';

/**
 * Every scenario `npm run bench` knows, in report order. Select some with
 * BENCH_SCENARIOS=id,id. Planned: refresh_token rotation, authorization_code exchange,
 * JWT-bearer (RFC 7523).
 */
export const SCENARIOS: readonly Scenario[] = [clientCredentials];

export type { Scenario } from './types.js';
