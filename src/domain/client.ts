import type { StoredClientMetadata } from '../oauth/client-metadata.js';

/** A registered client as the server knows it: its metadata (parsed by its schema) and secret hash. */
export interface ClientRecord {
  clientId: string;
  secretHash: string | null;
  /** The secret a rotation replaced, accepted until `expiresAt` (migration 016); absent when none. */
  previousSecret?: { hash: string; expiresAt: Date } | undefined;
  metadata: StoredClientMetadata;
  createdAt: Date;
  updatedAt: Date;
}
