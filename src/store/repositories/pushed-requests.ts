import type { FormParams } from '../../domain/form.js';
import type { Queryable } from '../db.js';

/** A pushed authorization request (RFC 9126) as stored: keyed by the hash of its request_uri. */
export interface PushedRequest {
  clientId: string;
  params: FormParams;
  /** The parameters came from a verified request object (RFC 9101). */
  signed: boolean;
}

/** Why a request_uri could not be taken, for a precise invalid_request_uri description. */
export type PushedRequestMiss = 'unknown' | 'expired' | 'other_client';

export function pushedRequestsRepository(db: Queryable) {
  return {
    async create(hash: string, r: PushedRequest, expiresAt: Date): Promise<void> {
      await db.query(
        'INSERT INTO pushed_authorization_requests (request_uri_hash, client_id, params, signed, expires_at) VALUES ($1, $2, $3, $4, $5)',
        [hash, r.clientId, JSON.stringify(r.params), r.signed, expiresAt],
        { name: 'par.create' },
      );
    },

    /**
     * Takes the request once (RFC 9126 §4: single use): one DELETE … RETURNING, so of two
     * concurrent uses, in one process or several, exactly one gets it. Only the client it was
     * pushed by can take it, and only before it expires; another client's attempt leaves it alone.
     */
    async take(hash: string, clientId: string, now: Date): Promise<PushedRequest | PushedRequestMiss> {
      const r = await db.query<{ client_id: string; params: FormParams; signed: boolean }>(
        `DELETE FROM pushed_authorization_requests
          WHERE request_uri_hash = $1 AND client_id = $2 AND expires_at > $3
          RETURNING client_id, params, signed`,
        [hash, clientId, now],
        { name: 'par.take' },
      );
      const row = r.rows[0];
      if (row) return { clientId: row.client_id, params: row.params, signed: row.signed };
      // Only to word the refusal: the row, if any, is not touched.
      const why = await db.query<{ client_id: string; expires_at: Date }>(
        'SELECT client_id, expires_at FROM pushed_authorization_requests WHERE request_uri_hash = $1',
        [hash],
        { name: 'par.why' },
      );
      const left = why.rows[0];
      if (!left) return 'unknown';
      if (left.client_id !== clientId) return 'other_client';
      return 'expired';
    },
  };
}

export type PushedRequestsRepository = ReturnType<typeof pushedRequestsRepository>;
