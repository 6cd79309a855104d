import { MAX_SECRET_OVERLAP, type ClientView } from '../admin/services/clients.js';
import { generateClientId, usesSecret } from '../clients/credentials.js';
import {
  clientMetadataSchema,
  describeIssues,
  type AuthMethod,
  type ClientMetadataInput,
  type GrantType,
  type StoredClientMetadata,
} from '../oauth/client-metadata.js';
import { CliError, UsageError, kidLabel, readJwksFile, str, strs, table, type Command, type Session, type Values } from './common.js';

const DEVICE_CODE = 'urn:ietf:params:oauth:grant-type:device_code';

interface ClientType {
  grantTypes: GrantType[];
  /** Empty for clients that never use /authorize. */
  responseTypes: ('code' | 'code id_token')[];
  /** Without --jwks-file/--jwks-uri. */
  authMethod: AuthMethod;
  /** Uses /authorize, so it needs redirect URIs. */
  redirects: boolean;
  /** Confidential: may authenticate with private_key_jwt instead of a secret. */
  confidential: boolean;
}

/** RFC 9700 / RFC 8252 / RFC 8628 guidance per kind of application (docs/contract.md CLI). */
const CLIENT_TYPES: Record<string, ClientType> = {
  web: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'client_secret_basic',
    redirects: true,
    confidential: true,
  },
  spa: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'none',
    redirects: true,
    confidential: false,
  },
  native: {
    grantTypes: ['authorization_code', 'refresh_token'],
    responseTypes: ['code'],
    authMethod: 'none',
    redirects: true,
    confidential: false,
  },
  service: {
    grantTypes: ['client_credentials'],
    responseTypes: [],
    authMethod: 'client_secret_basic',
    redirects: false,
    confidential: true,
  },
  device: { grantTypes: [DEVICE_CODE, 'refresh_token'], responseTypes: [], authMethod: 'none', redirects: false, confidential: false },
};

/** Arguments -> validated metadata; everything is checked before the database is opened. */
function buildMetadata(v: Values): StoredClientMetadata {
  const typeName = str(v, 'type');
  if (!typeName) throw new UsageError(`--type is required (${Object.keys(CLIENT_TYPES).join(', ')})`);
  const type = Object.hasOwn(CLIENT_TYPES, typeName) ? CLIENT_TYPES[typeName] : undefined;
  if (!type) throw new UsageError(`--type must be one of ${Object.keys(CLIENT_TYPES).join(', ')} (got "${typeName}")`);
  const name = str(v, 'name');
  if (!name) throw new UsageError('--name is required');
  const redirectUris = strs(v, 'redirect-uri');
  const jwksFile = str(v, 'jwks-file');
  const jwksUri = str(v, 'jwks-uri');

  if (type.redirects && redirectUris.length === 0) {
    throw new UsageError(`a ${typeName} client needs at least one --redirect-uri (the authorization code flow redirects back to it)`);
  }
  if (!type.redirects && redirectUris.length > 0) {
    throw new UsageError(`--redirect-uri does not apply to a ${typeName} client (it never uses the authorization endpoint)`);
  }
  if (jwksFile && jwksUri) throw new UsageError('give either --jwks-file or --jwks-uri, not both');
  const withKeys = Boolean(jwksFile || jwksUri);
  if (withKeys && !type.confidential) {
    throw new UsageError(`--jwks-file/--jwks-uri do not apply to a ${typeName} client: it is a public client with no credentials`);
  }

  const input: ClientMetadataInput = {
    client_id: str(v, 'client-id') ?? generateClientId(name, typeName),
    client_name: name,
    redirect_uris: redirectUris,
    grant_types: type.grantTypes,
    response_types: type.responseTypes,
    token_endpoint_auth_method: withKeys ? 'private_key_jwt' : type.authMethod,
    scope: (str(v, 'scope') ?? '').trim().split(/\s+/).filter(Boolean).join(' '),
    audiences: strs(v, 'audience'),
    ...(jwksFile ? { jwks: readJwksFile(jwksFile) as ClientMetadataInput['jwks'] } : {}),
    ...(jwksUri ? { jwks_uri: jwksUri } : {}),
    ...(v.dpop === true ? { dpop_bound_access_tokens: true } : {}),
    ...(strs(v, 'id-token-claim').length ? { id_token_claims: strs(v, 'id-token-claim') } : {}),
    ...(v['id-token-minimal'] === true ? { id_token_minimal: true } : {}),
  };
  const parsed = clientMetadataSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`invalid client: ${describeIssues(parsed.error)}`);
  // The schema's output never holds a secret here (none was given); the secret is made later.
  const { client_secret: _none, ...metadata } = parsed.data;
  return metadata;
}

/** The client as show/list --json print it: the admin API's view (metadata and dates, never the secret or its hash). */
const clientJson = (c: ClientView) => c;

function describeClient(c: ClientView): string {
  const rows: [string, string[]][] = [
    ['client_id', [c.client_id]],
    ['client_name', c.client_name ? [c.client_name] : []],
    ['token_endpoint_auth_method', [c.token_endpoint_auth_method]],
    ['client_secret', [c.has_client_secret ? 'set (stored only as a hash)' : 'none']],
    ['previous_secret', c.previous_secret_expires_at ? [`still accepted until ${c.previous_secret_expires_at}`] : []],
    ['grant_types', c.grant_types],
    ['response_types', c.response_types],
    ['redirect_uris', c.redirect_uris],
    ['post_logout_redirect_uris', c.post_logout_redirect_uris],
    ['scope', c.scope ? [c.scope] : []],
    ['audiences', c.audiences],
    [
      'jwks',
      c.jwks
        ? [
            `${c.jwks.keys.length} key(s)${c.jwks.keys.length ? `: ${c.jwks.keys.map((k) => kidLabel(k) ?? `${k.kty} (no kid)`).join(', ')}` : ''}`,
          ]
        : [],
    ],
    ['jwks_uri', c.jwks_uri ? [c.jwks_uri] : []],
    ['skip_consent', c.skip_consent ? ['true'] : []],
    ['id_token_claims', c.id_token_claims?.length ? [c.id_token_claims.join(' ')] : []],
    ['id_token_minimal', c.id_token_minimal ? ['true'] : []],
    ['dpop_bound_access_tokens', c.dpop_bound_access_tokens ? ['true'] : []],
    ['created_at', [c.created_at]],
    ['updated_at', [c.updated_at]],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows
    .filter(([, vals]) => vals.length > 0)
    .flatMap(([k, vals]) => vals.map((val, i) => `${(i === 0 ? k : '').padEnd(width)}  ${val}`))
    .join('\n');
}

async function findOrFail(s: Session, id: string): Promise<ClientView> {
  const client = await s.admin.clients.find(id);
  if (!client) throw new CliError(`no client with client_id "${id}"`);
  return client;
}

/** Upper bound of the admin API's overlap_seconds (src/admin/services/clients.ts). */
const MAX_OVERLAP = MAX_SECRET_OVERLAP;

function parseOverlap(raw: string | undefined): number {
  if (raw === undefined) return 0;
  if (!/^\d{1,8}$/.test(raw) || Number(raw) > MAX_OVERLAP) {
    throw new UsageError(`--overlap must be a whole number of seconds from 0 to ${MAX_OVERLAP} (30 days) (got "${raw}")`);
  }
  return Number(raw);
}

export const clientCommands: Command[] = [
  {
    path: ['clients', 'create'],
    summary: 'register a client; prints its client_secret once',
    usage: '--type web|spa|native|service|device --name NAME [options]',
    help: [
      '  --type TYPE            web      authorization code + refresh token, client_secret_basic (private_key_jwt with --jwks-*)',
      '                         spa      authorization code (PKCE) + refresh token, public (no secret)',
      '                         native   authorization code (PKCE) + refresh token, public (no secret)',
      '                         service  client credentials, client_secret_basic (private_key_jwt with --jwks-*)',
      '                         device   device code + refresh token, public (no secret)',
      '  --name NAME            human-readable name (client_name)',
      '  --redirect-uri URI     a redirect URI; repeat for several (required for web, spa, native)',
      '  --scope "A B"          scopes the client may request, space-separated',
      '  --audience URI         a resource the client may get tokens for; repeat for several',
      "  --jwks-file FILE       the client's public keys (JWK Set or one JWK): use private_key_jwt (web, service)",
      '  --jwks-uri URL         where the client publishes its public keys: use private_key_jwt (web, service)',
      '  --client-id ID         use this client_id instead of a generated one',
      '  --dpop                 every token request must carry a DPoP proof (dpop_bound_access_tokens, RFC 9449)',
      "  --id-token-claim NAME  a claim of the user for its ID tokens and /userinfo beyond the scopes' (roles, a",
      '                         standard or custom claim); repeat for several',
      '  --id-token-minimal     ID tokens carry no claims of the user (the client reads them from /userinfo)',
    ].join('\n'),
    options: {
      type: { type: 'string' },
      name: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      scope: { type: 'string' },
      audience: { type: 'string', multiple: true },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
      'client-id': { type: 'string' },
      dpop: { type: 'boolean' },
      'id-token-claim': { type: 'string', multiple: true },
      'id-token-minimal': { type: 'boolean' },
    },
    async run(s, values) {
      const metadata = buildMetadata(values);
      const { client, clientSecret: secret } = await s.admin.clients.create(metadata);
      if (s.json) {
        // RFC 7591 §3.2.1 registration response shape.
        const { client_id, has_client_secret: _h, previous_secret_expires_at: _p, created_at, updated_at: _u, ...rest } = client;
        s.printJson({
          client_id,
          ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
          client_id_issued_at: Math.floor(Date.parse(created_at) / 1000),
          ...rest,
        });
        return;
      }
      s.print(`Created ${str(values, 'type')} client "${client.client_name ?? client.client_id}".\n`);
      s.print(describeClient(client));
      if (secret) {
        s.print(`\nclient_secret: ${secret}\n`);
        s.print('Save this client_secret now: it will not be shown again (only a hash of it is stored).');
      }
    },
  },
  {
    path: ['clients', 'list'],
    summary: 'list registered clients',
    usage: '',
    async run(s) {
      const clients = await s.admin.clients.list();
      if (s.json) {
        s.printJson(clients.map(clientJson));
        return;
      }
      if (clients.length === 0) {
        s.print('No clients registered.');
        return;
      }
      s.print(
        table(
          ['CLIENT_ID', 'AUTH METHOD', 'GRANT TYPES', 'NAME'],
          clients.map((c) => [c.client_id, c.token_endpoint_auth_method, c.grant_types.join(','), c.client_name ?? '']),
        ),
      );
    },
  },
  {
    path: ['clients', 'show'],
    summary: "show a client's metadata (never its secret)",
    usage: 'ID',
    args: ['ID'],
    async run(s, _values, arg) {
      const id = arg('ID');
      const client = await findOrFail(s, id);
      if (s.json) {
        s.printJson(clientJson(client));
        return;
      }
      s.print(describeClient(client));
    },
  },
  {
    path: ['clients', 'delete'],
    summary: 'delete a client with its grants, consents and tokens',
    usage: 'ID',
    args: ['ID'],
    notes:
      'Its grants (refresh tokens, codes), remembered consents, pending device codes and sign-ins go with it, and a tombstone makes the access tokens it already holds introspect as inactive. Registering the same ID again starts from nothing.',
    async run(s, _values, arg) {
      const id = arg('ID');
      if (!(await s.admin.clients.delete(id))) throw new CliError(`no client with client_id "${id}"`);
      if (s.json) {
        s.printJson({ client_id: id, deleted: true });
        return;
      }
      s.print(`Deleted client "${id}" with its grants, consents and tokens; ${s.admin.propagation}`);
    },
  },
  {
    path: ['clients', 'rotate-secret'],
    summary: "replace a client's secret; prints the new one once",
    usage: 'ID [--overlap SECONDS]',
    args: ['ID'],
    help: [
      '  --overlap SECONDS      how long the old secret keeps working, so the client can be redeployed without',
      `                         downtime (default 0: it stops at once; at most ${MAX_OVERLAP}, 30 days)`,
    ].join('\n'),
    options: { overlap: { type: 'string' } },
    async run(s, values, arg) {
      const id = arg('ID');
      const overlap = parseOverlap(str(values, 'overlap'));
      const client = await findOrFail(s, id);
      const method = client.token_endpoint_auth_method;
      if (!usesSecret(method)) {
        throw new CliError(
          `client "${id}" authenticates with ${method === 'none' ? 'no credentials (a public client)' : method}; it has no client_secret to rotate`,
        );
      }
      const rotated = await s.admin.clients.rotateSecret(id, overlap);
      if (!rotated) throw new CliError(`no client with client_id "${id}"`);
      const { clientSecret: secret, previousSecretExpiresAt } = rotated;
      if (s.json) {
        s.printJson({
          client_id: id,
          client_secret: secret,
          client_secret_expires_at: 0,
          previous_secret_expires_at: previousSecretExpiresAt,
        });
        return;
      }
      s.print(`New client_secret for "${id}": ${secret}`);
      s.print(
        `Save it now: it will not be shown again. ${previousSecretExpiresAt ? `The old secret works until ${previousSecretExpiresAt}` : 'The old secret stops working'}; ${s.admin.propagation}`,
      );
    },
  },
];
