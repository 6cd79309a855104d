import { randomBytes } from 'node:crypto';
import type { AuthMethod } from '../oauth/client-metadata.js';

/** Whether a client of this method authenticates with a client_secret. */
export const usesSecret = (m: AuthMethod): boolean => m === 'client_secret_basic' || m === 'client_secret_post';

/** 256 bits, base64url: 43 characters, above the 32-character minimum of MIN_SECRET_LENGTH. */
export const newClientSecret = (): string => randomBytes(32).toString('base64url');

/** "Billing Service!" -> "billing-service-3f9a2c1b7e4d": readable in logs; the suffix keeps same-named clients apart. */
export function generateClientId(name: string, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 40)
    .replace(/^-+|-+$/g, '');
  return `${slug || fallback}-${randomBytes(6).toString('hex')}`;
}
