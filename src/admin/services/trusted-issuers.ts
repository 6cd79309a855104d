import type { Db } from '../../store/db.js';
import { trustedIssuersRepository, type TrustedIssuerRecord } from '../../store/repositories/trusted-issuers.js';
import { trustedIssuerSchema, type TrustedIssuer } from '../../trust/schema.js';
import { documentService } from './documents.js';
import { AdminError } from './errors.js';

export type TrustedIssuerView = TrustedIssuer & { created_at: string; updated_at: string; [member: string]: unknown };

/**
 * Trusted issuers (src/trust): the bootstrap file's schema, and its one check the schema cannot
 * make — this server's own issuer is trusted already. Running servers see changes within
 * CLIENT_CACHE_TTL (their TrustedIssuerCache).
 */
export function trustedIssuersService(deps: { db: Db; issuer: string }) {
  return documentService<TrustedIssuerRecord, TrustedIssuer, TrustedIssuerView>(deps.db, {
    kind: 'trusted_issuer',
    noun: 'trusted issuer',
    idMember: 'issuer',
    schema: trustedIssuerSchema,
    repo: trustedIssuersRepository,
    idOf: (t) => t.issuer,
    documentOf: (t) => ({ ...t.metadata }),
    view: (t) => ({ ...t.metadata, created_at: t.createdAt.toISOString(), updated_at: t.updatedAt.toISOString() }),
    check: (t) =>
      t.issuer === deps.issuer
        ? new AdminError('invalid', `issuer: ${deps.issuer} is this server's own issuer; its tokens are trusted already`, [
            { pointer: '/issuer', detail: "this server's own issuer" },
          ])
        : undefined,
  });
}
