import { describeIssues, resourceSchema, type Resource } from '../oauth/client-metadata.js';
import { CliError, UsageError, str, strs, table, type Command, type Values } from './common.js';

/**
 * `latchkey resources create|update|list`: the APIs tokens are for (RFC 8707), with the name and
 * the scope descriptions the consent page shows. The same zod schema as the bootstrap file
 * validates everything before the database is opened.
 */

const OPTIONS = {
  name: { type: 'string' },
  scope: { type: 'string' },
  'scope-description': { type: 'string', multiple: true },
  'access-token-ttl': { type: 'string' },
  'access-token-claims': { type: 'string' },
} as const;

const OPTION_HELP = [
  '  --name NAME                      what the consent page calls the API (default: its identifier)',
  '  --scope "A B"                    the scopes it defines, separated by spaces',
  '  --scope-description SCOPE=TEXT   plain words for one scope on the consent page; repeat for several',
  '  --access-token-ttl SECONDS       lifetime of its access tokens (30-86400; default ACCESS_TOKEN_TTL)',
  '  --access-token-claims "A B"      claims of the user its access tokens carry, e.g. "roles email department"',
  '                                   (roles, standard or custom claims; "" for none, the default)',
];

/** --scope-description values: "read=See your orders" → { read: 'See your orders' }. */
function scopeDescriptions(values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of strs(values, 'scope-description')) {
    const eq = d.indexOf('=');
    if (eq < 1) throw new UsageError(`--scope-description must be SCOPE=TEXT, e.g. read="See your orders" (got "${d}")`);
    out[d.slice(0, eq)] = d.slice(eq + 1);
  }
  return out;
}

function ttl(values: Values): number | undefined {
  const raw = str(values, 'access-token-ttl');
  if (raw === undefined) return undefined;
  if (!/^\d{1,6}$/.test(raw)) throw new UsageError('--access-token-ttl must be a whole number of seconds');
  return Number(raw);
}

const scopesOf = (values: Values): string[] | undefined => str(values, 'scope')?.trim().split(/\s+/).filter(Boolean);
const claimNamesOf = (values: Values): string[] | undefined => str(values, 'access-token-claims')?.trim().split(/\s+/).filter(Boolean);

function validate(input: unknown): Resource {
  const parsed = resourceSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`invalid resource: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function view(r: Resource) {
  return {
    identifier: r.identifier,
    name: r.name ?? null,
    scopes: r.scopes,
    scope_descriptions: r.scope_descriptions ?? {},
    access_token_ttl: r.access_token_ttl ?? null,
    access_token_claims: r.access_token_claims ?? [],
  };
}

export const resourceCommands: Command[] = [
  {
    path: ['resources', 'create'],
    summary: 'register an API (resource server) that tokens may be issued for',
    usage:
      'IDENTIFIER [--name NAME] [--scope "A B"] [--scope-description SCOPE=TEXT…] [--access-token-ttl SECONDS] [--access-token-claims "A B"]',
    args: ['IDENTIFIER'],
    help: OPTION_HELP.join('\n'),
    notes: [
      'IDENTIFIER is an absolute URI (the "aud" of its access tokens, the RFC 8707 "resource" value). Example:',
      '  latchkey resources create https://api.example.com --name "Orders API" --scope "orders:read orders:write" \\',
      '    --scope-description orders:read="See your orders" --scope-description orders:write="Place orders for you"',
    ].join('\n'),
    options: OPTIONS,
    async run(s, values, arg) {
      const resource = validate({
        identifier: arg('IDENTIFIER'),
        ...(str(values, 'name') !== undefined ? { name: str(values, 'name') } : {}),
        scopes: scopesOf(values) ?? [],
        scope_descriptions: scopeDescriptions(values),
        ...(ttl(values) !== undefined ? { access_token_ttl: ttl(values) } : {}),
        ...(claimNamesOf(values)?.length ? { access_token_claims: claimNamesOf(values) } : {}),
      });
      if (!(await s.admin.resources.create(resource))) {
        throw new CliError(`resource "${resource.identifier}" already exists; change it with \`latchkey resources update\``);
      }
      if (s.json) {
        s.printJson({ ...view(resource), result: 'created' });
        return;
      }
      s.print(`Created resource "${resource.identifier}"; ${s.admin.propagation}`);
    },
  },
  {
    path: ['resources', 'update'],
    summary: "change an API's name, scopes, scope descriptions, token lifetime or token claims",
    usage:
      'IDENTIFIER [--name NAME] [--scope "A B"] [--scope-description SCOPE=TEXT…] [--access-token-ttl SECONDS] [--access-token-claims "A B"]',
    args: ['IDENTIFIER'],
    help: OPTION_HELP.join('\n'),
    notes: [
      'Only what is given changes. --scope replaces the list of scopes (descriptions of scopes it drops are dropped',
      'with them); --scope-description adds or replaces the description of one scope. Consent already given stays',
      'valid for the scopes that remain.',
    ].join('\n'),
    options: OPTIONS,
    async run(s, values, arg) {
      const identifier = arg('IDENTIFIER');
      const current = await s.admin.resources.find(identifier);
      if (!current) throw new CliError(`resource "${identifier}" does not exist; create it with \`latchkey resources create\``);
      const scopes = scopesOf(values) ?? current.scopes;
      const descriptions = Object.fromEntries(
        Object.entries({ ...current.scope_descriptions, ...scopeDescriptions(values) }).filter(
          ([scope]) => scopes.includes(scope) || scope in scopeDescriptions(values),
        ),
      );
      const name = str(values, 'name') ?? current.name;
      const lifetime = ttl(values) ?? current.access_token_ttl;
      const claimNames = claimNamesOf(values) ?? current.access_token_claims ?? [];
      const resource = validate({
        identifier,
        ...(name !== undefined ? { name } : {}),
        scopes,
        scope_descriptions: descriptions,
        ...(lifetime !== undefined ? { access_token_ttl: lifetime } : {}),
        ...(claimNames.length ? { access_token_claims: claimNames } : {}),
      });
      const outcome = await s.admin.resources.update(current, resource);
      if (s.json) {
        s.printJson({ ...view(resource), result: outcome });
        return;
      }
      s.print(`${outcome === 'unchanged' ? 'Unchanged:' : 'Updated'} resource "${identifier}"; ${s.admin.propagation}`);
    },
  },
  {
    path: ['resources', 'list'],
    summary: 'list the APIs tokens may be issued for',
    usage: '',
    async run(s) {
      const list = await s.admin.resources.list();
      if (s.json) {
        s.printJson(list.map(view));
        return;
      }
      if (list.length === 0) {
        s.print('No resources.');
        return;
      }
      s.print(
        table(
          ['IDENTIFIER', 'NAME', 'SCOPES', 'TOKEN TTL', 'TOKEN CLAIMS'],
          list.map((r) => [
            r.identifier,
            r.name ?? '-',
            r.scopes.join(' ') || '-',
            r.access_token_ttl !== undefined ? `${r.access_token_ttl} s` : '-',
            r.access_token_claims?.join(' ') || '-',
          ]),
        ),
      );
      const described = list.filter((r) => Object.keys(r.scope_descriptions ?? {}).length);
      for (const r of described) {
        s.print(`\n${r.name ?? r.identifier}:`);
        for (const [scope, text] of Object.entries(r.scope_descriptions ?? {})) s.print(`  ${scope}: ${text}`);
      }
    },
  },
];
