import type { Db } from '../db.js';
import { auditEventsRepository } from './audit-events.js';
import { clientsRepository } from './clients.js';
import { codesRepository } from './codes.js';
import { consentsRepository } from './consents.js';
import { consoleSessionsRepository } from './console-sessions.js';
import { deviceCodesRepository } from './device-codes.js';
import { dpopProofsRepository } from './dpop-proofs.js';
import { grantsRepository } from './grants.js';
import { interactionsRepository } from './interactions.js';
import { keysRepository } from './keys.js';
import { pushedRequestsRepository } from './pushed-requests.js';
import { rateLimitsRepository } from './rate-limits.js';
import { refreshTokensRepository } from './refresh-tokens.js';
import { replayRepository } from './replay.js';
import { resourcesRepository } from './resources.js';
import { revocationsRepository } from './revocations.js';
import { sessionsRepository } from './sessions.js';
import { totpRepository } from './totp.js';
import { trustedIssuersRepository } from './trusted-issuers.js';
import { usersRepository } from './users.js';

/** Every repository over one database, built once by the composition root (src/app.ts). */
export function createRepositories(db: Db) {
  return {
    clients: clientsRepository(db),
    resources: resourcesRepository(db),
    keys: keysRepository(db),
    revocations: revocationsRepository(db),
    replay: replayRepository(db),
    dpopProofs: dpopProofsRepository(db),
    rateLimits: rateLimitsRepository(db),
    users: usersRepository(db),
    sessions: sessionsRepository(db),
    interactions: interactionsRepository(db),
    grants: grantsRepository(db),
    codes: codesRepository(db),
    consents: consentsRepository(db),
    refreshTokens: refreshTokensRepository(db),
    deviceCodes: deviceCodesRepository(db),
    trustedIssuers: trustedIssuersRepository(db),
    consoleSessions: consoleSessionsRepository(db),
    auditEvents: auditEventsRepository(db),
    totp: totpRepository(db),
    pushedRequests: pushedRequestsRepository(db),
  };
}

export type Repositories = ReturnType<typeof createRepositories>;
