import type { Db } from './db.js';
import { codesRepository, type CodesRepository } from './repositories/codes.js';
import { deviceCodesRepository, type DeviceCodesRepository } from './repositories/device-codes.js';
import { grantsRepository, type GrantsRepository } from './repositories/grants.js';
import { refreshTokensRepository, type RefreshTokensRepository } from './repositories/refresh-tokens.js';

/** The repositories a grant may use inside one transaction, each bound to it. */
export interface TransactionRepositories {
  codes: CodesRepository;
  deviceCodes: DeviceCodesRepository;
  grants: GrantsRepository;
  refreshTokens: RefreshTokensRepository;
}

/**
 * The transaction port (as fosite's `storage.Transactional`): `fn` runs inside BEGIN … COMMIT on
 * one connection with repositories bound to it; when it throws, everything it wrote is rolled
 * back and the error propagates. Grants decide; this only makes their writes all-or-nothing.
 */
export type Transaction = <T>(fn: (repos: TransactionRepositories) => Promise<T>) => Promise<T>;

export function transactionOn(db: Db): Transaction {
  return (fn) =>
    db.transaction((tx) =>
      fn({
        codes: codesRepository(tx),
        deviceCodes: deviceCodesRepository(tx),
        grants: grantsRepository(tx),
        refreshTokens: refreshTokensRepository(tx),
      }),
    );
}
