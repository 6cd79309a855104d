import { z } from 'zod';
import { AdminError } from '../services/errors.js';

export const MAX_LIMIT = 200;
export const DEFAULT_LIMIT = 50;

/** `cursor` and `limit`, on every list. */
export const pageQuery = z.object({
  cursor: z.string().max(1024, 'cursor is too long').optional().describe('next_cursor of the previous page'),
  limit: z.coerce
    .number({ error: `limit must be a whole number from 1 to ${MAX_LIMIT}` })
    .int(`limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .min(1, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .max(MAX_LIMIT, `limit must be a whole number from 1 to ${MAX_LIMIT}`)
    .default(DEFAULT_LIMIT)
    .describe(`items per page (1–${MAX_LIMIT}, default ${DEFAULT_LIMIT})`),
});

/** A page as every list answers it (docs/contract.md: `{"items": [...], "next_cursor": ...}`). */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable().describe('pass as ?cursor= for the next page; null on the last') });

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/**
 * Opaque keyset cursors: the sort key of the last item shown, base64url JSON. Opaque to clients
 * (its shape may change); read back only as the key it was made from, so a forged one can at
 * worst start a list at another place the caller could list anyway.
 */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ k: key }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, valid: (key: string) => boolean = () => true): string | undefined {
  if (cursor === undefined) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    const k = v && typeof v === 'object' ? (v as { k?: unknown }).k : undefined;
    if (typeof k === 'string' && valid(k)) return k;
  } catch {
    /* refused below */
  }
  throw new AdminError('invalid', 'cursor: not a cursor this API gave; pass next_cursor from the previous page unchanged', [
    { field: 'cursor', detail: 'not a cursor this API gave' },
  ]);
}

/**
 * The page from `limit + 1` rows fetched in key order after the cursor: the extra row only says
 * whether another page follows.
 */
export function pageFrom<R, T>(rows: R[], limit: number, keyOf: (r: R) => string, view: (r: R) => T): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return { items: shown.map(view), next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
