import { randomInt } from 'node:crypto';

/**
 * RFC 8628 §6.1: user codes from 20 consonants (no vowels, so no words; no digits, so nothing
 * to confuse with letters), 8 characters, about 34.6 bits; shown XXXX-XXXX, compared ignoring
 * case, spaces and dashes.
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const LENGTH = 8;

export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < LENGTH; i++) code += USER_CODE_ALPHABET.charAt(randomInt(USER_CODE_ALPHABET.length));
  return code;
}

export function formatUserCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** The canonical form of what a person typed, or undefined when it cannot be a user code. */
export function normalizeUserCode(input: string): string | undefined {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== LENGTH) return undefined;
  for (const ch of code) if (!USER_CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}
