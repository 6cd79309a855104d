/**
 * Waits for a condition instead of for a while: `check` runs at once and then every `everyMs`
 * until it holds; after `timeoutMs` the wait fails, naming `what` did not happen. For state no
 * event announces (a server noticing its database is gone, a key reloaded by another process).
 */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  { timeoutMs = 30_000, everyMs = 25 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
