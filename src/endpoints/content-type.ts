/**
 * The one Content-Type check of the form endpoints: `application/x-www-form-urlencoded`, any
 * case, optionally followed by parameters (`; charset=UTF-8`), and nothing else — anchored at
 * both ends, so `application/x-www-form-urlencodedX` or a type merely containing it is not a form
 * (RFC 9110 §8.3.1; RFC 6749 §3.2, RFC 7662 §2.1, RFC 7009 §2.1, OIDC Core §3.1.2.1).
 */
const FORM = /^application\/x-www-form-urlencoded[\t ]*(;|$)/i;

export const isFormUrlEncoded = (contentType: string | undefined): boolean => contentType !== undefined && FORM.test(contentType);
