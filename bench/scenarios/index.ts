import { authorizationCode } from './authorization-code.js';
import { clientCredentials } from './client-credentials.js';
import { jwtBearer } from './jwt-bearer.js';
import { login } from './login.js';
import { refreshToken } from './refresh-token.js';
import type { Scenario } from './types.js';

/** Every scenario `npm run bench` knows, in report order. Select some with BENCH_SCENARIOS=id,id. */
export const SCENARIOS: readonly Scenario[] = [clientCredentials, authorizationCode, refreshToken, jwtBearer, login];

export type { Scenario } from './types.js';
