import type { z } from 'zod';
import type { Db, Queryable } from '../../store/db.js';
import { checkIfMatch, etagOf } from '../api/etag.js';
import { applyMergePatch } from '../api/merge-patch.js';
import { recordChange, type Actor } from './audit.js';
import { AdminError, invalidBody, invalidField, notFound } from './errors.js';

/** What a collection of JSON documents keyed by one string needs from its repository. */
export interface DocumentRepository<Stored> {
  page(after: string | undefined, limit: number): Promise<Stored[]>;
  find(id: string): Promise<Stored | undefined>;
  findForUpdate(id: string): Promise<Stored | undefined>;
}

export interface DocumentCollection<Stored, Doc, View> {
  /** The target type of its audit events (resource, trusted_issuer). */
  kind: string;
  /** Its name in messages ("resource", "trusted issuer"). */
  noun: string;
  /** The member that is the document's id (identifier, issuer). */
  idMember: string;
  schema: z.ZodType<Doc>;
  repo: (q: Queryable) => DocumentRepository<Stored> & {
    insert(d: Doc): Promise<boolean>;
    replace(d: Doc): Promise<boolean>;
    delete(id: string): Promise<boolean>;
  };
  idOf: (s: Stored) => string;
  /** The stored document as the schema's input (what a merge patch applies to). */
  documentOf: (s: Stored) => Record<string, unknown>;
  view: (s: Stored) => View;
  /** A refusal the schema cannot know (e.g. the server's own issuer), or a read-only item. */
  check?: (doc: Doc) => AdminError | undefined;
  readOnly?: (id: string) => string | undefined;
  /** Told after each change (caches). */
  changed?: () => void;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * List, get, create, merge-patch and delete for a collection of validated JSON documents
 * (resources, trusted issuers): the bootstrap file's schema validates, the collection's
 * repository stores, and each change is audited in its transaction, If-Match checked on the
 * locked row.
 */
export function documentService<Stored, Doc, View>(db: Db, c: DocumentCollection<Stored, Doc, View>) {
  const parse = (input: unknown): Doc => {
    const parsed = c.schema.safeParse(input);
    if (!parsed.success) throw invalidBody(parsed.error.issues);
    const refusal = c.check?.(parsed.data);
    if (refusal) throw refusal;
    return parsed.data;
  };
  const refuseReadOnly = (id: string) => {
    const why = c.readOnly?.(id);
    if (why) throw new AdminError('conflict', why);
  };
  const load = async (q: Queryable, id: string) => {
    const found = await c.repo(q).findForUpdate(id);
    if (!found) throw notFound(c.noun, id);
    return found;
  };
  const reread = async (q: Queryable, id: string) => {
    const found = await c.repo(q).find(id);
    if (!found) throw new Error(`the ${c.noun} just written cannot be read`);
    return c.view(found);
  };
  return {
    /** `limit + 1` items after the cursor's id. */
    async list(after: string | undefined, limit: number): Promise<View[]> {
      return (await c.repo(db).page(after, limit + 1)).map(c.view);
    },

    async get(id: string): Promise<{ item: View; etag: string }> {
      const found = await c.repo(db).find(id);
      if (!found) throw notFound(c.noun, id);
      const item = c.view(found);
      return { item, etag: etagOf(item) };
    },

    async create(input: unknown, actor: Actor): Promise<{ item: View; etag: string; id: string }> {
      const doc = parse(input);
      const id = String((doc as Record<string, unknown>)[c.idMember]);
      refuseReadOnly(id);
      const item = await db.transaction(async (tx) => {
        if (!(await c.repo(tx).insert(doc))) {
          throw new AdminError('conflict', `a ${c.noun} "${id}" already exists`, [{ pointer: `/${c.idMember}`, detail: 'already taken' }]);
        }
        const created = await reread(tx, id);
        await recordChange(tx, { type: `${c.kind}.created`, actor, target: { type: c.kind, id }, after: created });
        return created;
      });
      c.changed?.();
      return { item, etag: etagOf(item), id };
    },

    async update(id: string, patch: unknown, ifMatch: string | undefined, actor: Actor): Promise<{ item: View; etag: string }> {
      if (!isObject(patch)) throw invalidField('', 'send a JSON merge patch object (RFC 7396)');
      if (c.idMember in patch && patch[c.idMember] !== id) throw invalidField(`/${c.idMember}`, `${c.idMember} cannot be changed`);
      refuseReadOnly(id);
      const item = await db.transaction(async (tx) => {
        const current = await load(tx, id);
        const before = c.view(current);
        checkIfMatch(ifMatch, etagOf(before));
        const doc = parse(applyMergePatch(c.documentOf(current), patch));
        if (!(await c.repo(tx).replace(doc))) throw notFound(c.noun, id);
        const after = await reread(tx, id);
        await recordChange(tx, { type: `${c.kind}.updated`, actor, target: { type: c.kind, id }, before, after });
        return after;
      });
      c.changed?.();
      return { item, etag: etagOf(item) };
    },

    async delete(id: string, ifMatch: string | undefined, actor: Actor): Promise<void> {
      refuseReadOnly(id);
      await db.transaction(async (tx) => {
        const current = await load(tx, id);
        const before = c.view(current);
        checkIfMatch(ifMatch, etagOf(before));
        if (!(await c.repo(tx).delete(id))) throw notFound(c.noun, id);
        await recordChange(tx, { type: `${c.kind}.deleted`, actor, target: { type: c.kind, id }, before });
      });
      c.changed?.();
    },
  };
}

export type DocumentService<View> = {
  list(after: string | undefined, limit: number): Promise<View[]>;
  get(id: string): Promise<{ item: View; etag: string }>;
  create(input: unknown, actor: Actor): Promise<{ item: View; etag: string; id: string }>;
  update(id: string, patch: unknown, ifMatch: string | undefined, actor: Actor): Promise<{ item: View; etag: string }>;
  delete(id: string, ifMatch: string | undefined, actor: Actor): Promise<void>;
};
