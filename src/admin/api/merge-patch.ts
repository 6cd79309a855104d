/** RFC 7396 JSON Merge Patch (§2): null deletes a member, objects merge, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result = new Map(Object.entries(isObject(target) ? target : {}));
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) result.delete(k);
    else result.set(k, applyMergePatch(result.get(k), v));
  }
  return Object.fromEntries(result);
}

/**
 * The RFC 7396 merge patch that turns `before` into `after` (the console's forms show a whole
 * object and send what changed): members gone become null, objects are diffed member by member
 * (a nested member removed must be null, or merging would keep it), other values that differ
 * replace. A null inside `after` cannot be expressed (it means "remove" in a merge patch).
 */
export function mergePatchBetween(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> {
  const patch = new Map<string, unknown>();
  for (const k of Object.keys(before)) if (!Object.hasOwn(after, k)) patch.set(k, null);
  for (const [k, v] of Object.entries(after)) {
    const old = Object.hasOwn(before, k) ? before[k] : undefined;
    if (isObject(old) && isObject(v)) {
      const inner = mergePatchBetween(old, v);
      if (Object.keys(inner).length) patch.set(k, inner);
    } else if (old === undefined || JSON.stringify(old) !== JSON.stringify(v)) {
      patch.set(k, v);
    }
  }
  // fromEntries defines own members: a "__proto__" key stays data, never a prototype.
  return Object.fromEntries(patch);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MERGE_PATCH = 'application/merge-patch+json';
