import type { Registry } from '../../clients/registry.js';
import { resourceSchema, type Resource } from '../../oauth/client-metadata.js';
import type { Db } from '../../store/db.js';
import { resourcesRepository } from '../../store/repositories/resources.js';
import { adminAudience } from '../api/auth.js';
import { documentService } from './documents.js';

export interface ResourceView extends Resource {
  /** Latchkey's own (the admin API): read-only. */
  built_in: boolean;
  [member: string]: unknown;
}

/** Resources (RFC 8707) with their scopes' descriptions: the schema the bootstrap file and `latchkey resources` use. */
export function resourcesService(deps: { db: Db; issuer: string; registry: Pick<Registry, 'invalidate'> }) {
  const builtIn = adminAudience(deps.issuer);
  return documentService<Resource, Resource, ResourceView>(deps.db, {
    kind: 'resource',
    noun: 'resource',
    idMember: 'identifier',
    schema: resourceSchema,
    repo: resourcesRepository,
    idOf: (r) => r.identifier,
    documentOf: (r) => ({ ...r }),
    view: (r) => ({ ...r, built_in: r.identifier === builtIn }),
    readOnly: (id) => (id === builtIn ? `${builtIn} is Latchkey's own admin API; it cannot be changed or deleted` : undefined),
    changed: () => deps.registry.invalidate(),
  });
}
