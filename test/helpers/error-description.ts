/**
 * Our messages quote names and values with `"`; error_description may not contain it (RFC 6749
 * §5.2), so the serialized text carries `'` instead. A pattern written against the message, with
 * the quote mark the client actually receives.
 */
export const asSent = (pattern: RegExp): RegExp => new RegExp(pattern.source.replaceAll('"', "'"), pattern.flags);
