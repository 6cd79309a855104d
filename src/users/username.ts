/**
 * The one fold of a username, used both to find the account and to key its sign-in throttle, so
 * every spelling that reaches an account counts against that account's limit.
 *
 * NFKC first (compatibility forms: fullwidth `ａｌｉｃｅ`, ligatures), then Unicode's default,
 * locale-independent lower-casing (`String.prototype.toLowerCase`, never a locale's: in Turkish
 * `I` would become `ı`), then NFKC again since lower-casing can produce sequences that are not
 * normalized. `İ` (U+0130) folds to `i̇` (`i` + U+0307 combining dot above), so `alİce` is not
 * `alice`: PostgreSQL's `lower()` maps it to plain `i`, which is why the lookup compares this key
 * and not `lower()` alone.
 */
export function usernameKey(username: string): string {
  return username.normalize('NFKC').toLowerCase().normalize('NFKC');
}
