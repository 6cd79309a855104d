/**
 * Settings read from environment variables (BENCH_*, SOAK_*), checked before anything starts: a
 * bad value is a SettingError naming the variable and what it accepts. The caller says it in one
 * line and exits 64 (EX_USAGE).
 */
export class SettingError extends Error {
  override name = 'SettingError';
}

type Env = Readonly<Record<string, string | undefined>>;

/** A whole number from `min` to `max`; undefined when unset or empty (the caller's default may depend on other settings). */
export function optionalIntSetting(env: Env, name: string, min: number, max: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new SettingError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
  return n;
}

/** A whole number from `min` to `max`; `def` when unset or empty. */
export function intSetting(env: Env, name: string, def: number, min: number, max: number): number {
  return optionalIntSetting(env, name, min, max) ?? def;
}

/** On with 1, true or yes (any case); off when unset or empty; anything else is a mistake worth saying. */
export function flagSetting(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new SettingError(`${name} must be 1, true or yes to turn it on, or 0, false, no or empty (got "${env[name] ?? ''}")`);
}

/** A comma-separated list of ids out of `known`; undefined when unset or empty. */
export function listSetting(env: Env, name: string, known: readonly string[]): string[] | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const ids = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length) throw new SettingError(`${name}: unknown id(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  return ids;
}

/**
 * The environment for a child server or CLI: only what a process needs to run (PATH, HOME, TMPDIR,
 * LANG, TZ) from `env`, plus `extra`, so nothing in the caller's shell (a DATABASE_URL, a
 * LATCHKEY_SECRET) leaks into the child's configuration.
 */
export function childEnv(env: Env, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return { ...out, ...extra };
}
