import { z } from 'zod';
import { resourceSchema } from '../../oauth/client-metadata.js';
import { trustedIssuerSchema } from '../../trust/schema.js';
import { documentRoutes } from './documents.js';

/** /resources: the APIs tokens are for, with their scopes and the words the consent page shows. */
export const resourcesRoutes = documentRoutes({
  path: '/resources',
  noun: 'resource',
  idMember: 'identifier',
  service: (s) => s.resources,
  createSchema: resourceSchema,
  itemSchema: z
    .looseObject({
      identifier: z.string(),
      name: z.string().optional(),
      scopes: z.array(z.string()),
      scope_descriptions: z.record(z.string(), z.string()).optional(),
      access_token_ttl: z.number().optional(),
      access_token_claims: z.array(z.string()).optional().describe("the user's claims its access tokens carry, e.g. roles"),
      built_in: z.boolean().describe("Latchkey's own admin API: read-only"),
    })
    .meta({ id: 'Resource' }),
});

/** /trusted-issuers: whose JWTs the jwt-bearer and token-exchange grants accept. */
export const trustedIssuersRoutes = documentRoutes({
  path: '/trusted-issuers',
  noun: 'trusted issuer',
  idMember: 'issuer',
  service: (s) => s.trustedIssuers,
  createSchema: trustedIssuerSchema,
  itemSchema: z
    .looseObject({ issuer: z.string(), client_ids: z.array(z.string()), scope: z.string(), created_at: z.string(), updated_at: z.string() })
    .meta({ id: 'TrustedIssuer' }),
});
