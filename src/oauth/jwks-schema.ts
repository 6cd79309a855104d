import { z } from 'zod';

const publicJwk = z
  .object({ kty: z.enum(['RSA', 'EC', 'OKP'], { error: 'jwks keys must be RSA, EC or OKP public keys' }) })
  .loose()
  .superRefine((k, ctx) => {
    const priv = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].filter((m) => m in k);
    if (priv.length) {
      ctx.addIssue({ code: 'custom', message: `jwks must hold public keys only; found private member(s) ${priv.join(', ')}` });
    }
  });

/** Where a party publishes its public keys (fetched by keys/remote-jwks.ts, SSRF-safe). */
export const jwksUriSchema = z
  // The message is for a string that is not a URL; anything else keeps zod's "expected string".
  .url({ error: (issue) => (issue.code === 'invalid_format' ? 'jwks_uri must be an absolute https URL' : undefined) })
  .refine((u) => u.startsWith('https://') || u.startsWith('http://'), 'jwks_uri must be an http(s) URL');

export const jwksSchema = z.strictObject({ keys: z.array(publicJwk).max(20, 'jwks may hold at most 20 keys') });
