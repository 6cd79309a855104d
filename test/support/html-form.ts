/**
 * Reading the server's HTML forms the way a browser submits them: the hidden fields (csrf, the
 * user code, form_post's code and state) and where the form posts to. Regular expressions over
 * the markup Latchkey's templates write (double-quoted attributes, entities escaped by Eta).
 */

/** The five entities Eta's escaping writes (&amp; last, so that "&amp;lt;" stays "&lt;"). */
export function unescapeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The value of the first input named `name`, unescaped, or undefined when the page has none. */
export function findHiddenField(html: string, name: string): string | undefined {
  const n = escapeRegExp(name);
  const m = new RegExp(`<input[^>]*\\bname="${n}"[^>]*\\bvalue="([^"]*)"|<input[^>]*\\bvalue="([^"]*)"[^>]*\\bname="${n}"`).exec(html);
  const value = m?.[1] ?? m?.[2];
  return value === undefined ? undefined : unescapeHtml(value);
}

/** The value of the input named `name`; throws, showing the page, when there is none. */
export function hiddenField(html: string, name: string): string {
  const value = findHiddenField(html, name);
  if (value === undefined) throw new Error(`no field ${name} in page:\n${html.slice(0, 2000)}`);
  return value;
}

/** The absolute URL the page's first form posts to, resolved against `base` (the page's URL or origin). */
export function formAction(html: string, base: string): string {
  const m = /<form[^>]*\baction="([^"]*)"/.exec(html);
  if (!m) throw new Error(`no form in page:\n${html.slice(0, 2000)}`);
  return new URL(unescapeHtml(m[1] ?? ''), base).toString();
}
