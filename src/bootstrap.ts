import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { hashClientSecret, type ServerSecrets } from './keys/secret.js';
import { clientMetadataSchema, describeIssues, resourceSchema } from './oauth/client-metadata.js';
import type { Db } from './store/db.js';
import { clientsRepository } from './store/repositories/clients.js';
import { resourcesRepository } from './store/repositories/resources.js';

/** CONTRACT.md "Bootstrap file". Unknown top-level members are refused (a typo is a mistake). */
export const bootstrapSchema = z
  .object({
    clients: z.array(clientMetadataSchema).default([]),
    resources: z.array(resourceSchema).default([]),
    users: z.array(z.unknown()).default([]),
    trusted_issuers: z.array(z.unknown()).default([]),
  })
  .strict()
  .superRefine((b, ctx) => {
    b.clients.forEach((c, i) => {
      const m = c.token_endpoint_auth_method;
      if ((m === 'client_secret_basic' || m === 'client_secret_post') && !c.client_secret) {
        ctx.addIssue({ code: 'custom', path: ['clients', i, 'client_secret'], message: `a client using ${m} needs a client_secret of at least 32 characters` });
      }
    });
    const dup = (list: string[], what: string, path: string) => {
      const seen = new Set<string>();
      list.forEach((v, i) => {
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [path, i], message: `${what} "${v}" appears twice` });
        seen.add(v);
      });
    };
    dup(b.clients.map((c) => c.client_id), 'client_id', 'clients');
    dup(b.resources.map((r) => r.identifier), 'resource', 'resources');
    if (b.users.length) ctx.addIssue({ code: 'custom', path: ['users'], message: 'users are not supported by this version yet (they arrive with the authorization code flow); remove them from the file' });
    if (b.trusted_issuers.length) ctx.addIssue({ code: 'custom', path: ['trusted_issuers'], message: 'trusted_issuers are not supported by this version yet (they arrive with the JWT-bearer grant); remove them from the file' });
  });

export type Bootstrap = z.output<typeof bootstrapSchema>;

export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

export function readBootstrapFile(path: string): Bootstrap {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (err) {
    throw new BootstrapError(`cannot read bootstrap file ${path}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new BootstrapError(`bootstrap file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const r = bootstrapSchema.safeParse(json);
  if (!r.success) throw new BootstrapError(`bootstrap file ${path}: ${describeIssues(r.error)}`);
  return r.data;
}

export interface ApplyResult {
  clients: Record<string, 'created' | 'updated' | 'unchanged'>;
  resources: Record<string, 'created' | 'updated' | 'unchanged'>;
}

/**
 * Idempotent upsert in one transaction: the whole file applies or nothing does, and applying
 * the same file again changes no row.
 */
export async function applyBootstrap(db: Db, secrets: ServerSecrets, b: Bootstrap): Promise<ApplyResult> {
  return db.transaction(async (tx) => {
    const clients = clientsRepository(tx);
    const resources = resourcesRepository(tx);
    const result: ApplyResult = { clients: {}, resources: {} };
    for (const r of b.resources) result.resources[r.identifier] = await resources.upsert(r);
    for (const c of b.clients) {
      const { client_secret, ...metadata } = c;
      result.clients[c.client_id] = await clients.upsert(c.client_id, metadata, client_secret ? hashClientSecret(secrets, client_secret) : null);
    }
    return result;
  });
}
