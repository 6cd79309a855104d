import { createHash } from 'node:crypto';
import { AdminError } from '../services/errors.js';

/** JSON with object keys sorted, so equal representations hash equal whatever order jsonb keeps. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return v === undefined ? 'null' : JSON.stringify(v);
}

/**
 * A strong ETag (RFC 9110 §8.8.3) of an item: a hash of its representation, which includes
 * `updated_at`, so any change gives a new tag and no column is needed to version rows.
 */
export function etagOf(representation: unknown): string {
  return `"${createHash('sha256').update(canonical(representation)).digest('base64url').slice(0, 27)}"`;
}

/**
 * RFC 9110 §13.1.1 If-Match with the strong comparison: `*` matches any existing item, a list
 * matches when one of its tags equals the current one; weak tags never match. If-Match is
 * optional (no 428): a caller that sends it gets optimistic concurrency, one that does not
 * overwrites (docs/contract.md). The caller checks inside the transaction that holds the row.
 */
export function checkIfMatch(ifMatch: string | undefined, current: string): void {
  if (ifMatch === undefined) return;
  const tags = ifMatch.split(',').map((t) => t.trim());
  if (tags.includes('*') || tags.includes(current)) return;
  throw new AdminError(
    'precondition_failed',
    'the item has changed since you read it (If-Match does not match its ETag); read it again and redo your change',
    [{ field: 'If-Match', detail: `does not match the current ETag ${current}` }],
  );
}
