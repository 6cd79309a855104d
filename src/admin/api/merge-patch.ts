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

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const MERGE_PATCH = 'application/merge-patch+json';
