import { describeIssues } from '../oauth/client-metadata.js';
import type { TrustedIssuerView } from './backend.js';
import { trustedIssuerSchema, type TrustedIssuer, type TrustedIssuerInput } from '../trust/schema.js';
import { CliError, UsageError, kidLabel, readJwksFile, str, strs, table, type Command, type Values } from './common.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Arguments -> a validated trusted issuer; everything is checked before the database is opened. */
function buildTrustedIssuer(v: Values): TrustedIssuer {
  const issuer = str(v, 'issuer');
  if (!issuer) throw new UsageError('--issuer is required (the "iss" value of the issuer\'s JWTs)');
  const jwksFile = str(v, 'jwks-file');
  const jwksUri = str(v, 'jwks-uri');
  if (jwksFile && jwksUri) throw new UsageError('give either --jwks-file or --jwks-uri, not both');
  if (!jwksFile && !jwksUri) throw new UsageError("the issuer's public keys are required: --jwks-file FILE or --jwks-uri URL");
  const subject = str(v, 'subject');
  const anySubject = v['any-subject'] === true;
  if (subject !== undefined && anySubject) throw new UsageError('give either --subject or --any-subject, not both');
  if (subject === undefined && !anySubject)
    throw new UsageError('name the subject the issuer may assert (--subject USERNAME), or allow any with --any-subject');
  const clientIds = strs(v, 'client-id');
  if (clientIds.length === 0)
    throw new UsageError("--client-id is required: the client(s) that may present this issuer's JWTs (repeat for several)");

  const input: TrustedIssuerInput = {
    issuer,
    ...(jwksFile ? { jwks: readJwksFile(jwksFile) as TrustedIssuerInput['jwks'] } : {}),
    ...(jwksUri ? { jwks_uri: jwksUri } : {}),
    ...(subject !== undefined ? { subject } : { allow_any_subject: true }),
    scope: (str(v, 'scope') ?? '').trim().split(/\s+/).filter(Boolean).join(' '),
    client_ids: clientIds,
  };
  const parsed = trustedIssuerSchema.safeParse(input);
  if (!parsed.success) throw new UsageError(`invalid trusted issuer: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function keysCell(t: TrustedIssuer): string {
  if (t.jwks_uri) return t.jwks_uri;
  const keys = t.jwks?.keys ?? [];
  return `${keys.length} key(s)${keys.length ? `: ${keys.map((k) => kidLabel(k) ?? k.kty).join(',')}` : ''}`;
}

export const trustCommands: Command[] = [
  {
    path: ['trust', 'add'],
    summary: 'trust an issuer to sign JWT-bearer assertions and token-exchange JWTs',
    usage: '--issuer ISS (--jwks-file F | --jwks-uri U) (--subject S | --any-subject) --client-id ID… [options]',
    help: [
      '  --issuer ISS           the "iss" value of the issuer\'s JWTs (compared exactly)',
      "  --jwks-file FILE       the issuer's public keys (JWK Set or one JWK)",
      '  --jwks-uri URL         where the issuer publishes its public keys (fetched with a timeout, a size limit and',
      '                         caching; private and loopback addresses are refused unless JWKS_URI_ALLOW_PRIVATE)',
      '  --subject S            the one subject the issuer may assert (a Latchkey username, or another identifier)',
      '  --any-subject          the issuer may assert any subject',
      '  --scope "A B"          the scopes its JWTs may obtain (default: none)',
      '  --client-id ID         a client that may present its JWTs; repeat for several (at least one)',
      '  --replace              replace the entry if the issuer is already trusted',
    ].join('\n'),
    notes: [
      "A JWT from a trusted issuer must be signed by one of its keys (RS*, PS*, ES*, EdDSA), name this server's",
      'issuer as its single "aud", carry "exp" (at most JWT_BEARER_MAX_ASSERTION_LIFETIME ahead) and a "jti",',
      'and is accepted once. An asserted "sub" that is a Latchkey username becomes that user\'s id in the tokens',
      'issued; any other "sub" is used verbatim. Example:',
      '  latchkey trust add --issuer https://idp.partner.example --jwks-uri https://idp.partner.example/jwks \\',
      '    --any-subject --scope api:read --client-id partner-service',
    ].join('\n'),
    options: {
      issuer: { type: 'string' },
      'jwks-file': { type: 'string' },
      'jwks-uri': { type: 'string' },
      subject: { type: 'string' },
      'any-subject': { type: 'boolean' },
      scope: { type: 'string' },
      'client-id': { type: 'string', multiple: true },
      replace: { type: 'boolean' },
    },
    async run(s, values) {
      const entry = buildTrustedIssuer(values);
      const outcome = await s.admin.trust.add(entry, values.replace === true);
      if (!outcome) throw new CliError(`issuer "${entry.issuer}" is already trusted; use --replace to change it, or trust remove first`);

      // Not errors (a client may be created afterwards), but almost always a mistake worth a line.
      for (const id of entry.client_ids) {
        const c = await s.admin.clients.find(id);
        if (!c) s.warn(`client "${id}" does not exist (yet)`);
        else if (!c.grant_types.some((g) => g === JWT_BEARER || g === TOKEN_EXCHANGE)) {
          s.warn(`client "${id}" has neither the jwt-bearer nor the token-exchange grant type, so it cannot present this issuer's JWTs`);
        }
      }
      if (s.json) {
        s.printJson({ ...entry, result: outcome });
        return;
      }
      s.print(
        `${outcome === 'created' ? 'Trusted' : outcome === 'updated' ? 'Updated' : 'Unchanged:'} issuer "${entry.issuer}"; ${s.admin.propagation}`,
      );
    },
  },
  {
    path: ['trust', 'list'],
    summary: 'list trusted issuers',
    usage: '',
    async run(s) {
      const list: TrustedIssuerView[] = await s.admin.trust.list();
      if (s.json) {
        s.printJson(list);
        return;
      }
      if (list.length === 0) {
        s.print('No trusted issuers.');
        return;
      }
      s.print(
        table(
          ['ISSUER', 'KEYS', 'SUBJECT', 'SCOPE', 'CLIENTS', 'UPDATED'],
          list.map((t) => [
            t.issuer,
            keysCell(t),
            t.allow_any_subject ? '(any)' : (t.subject ?? '-'),
            t.scope || '-',
            t.client_ids.join(','),
            t.updated_at,
          ]),
        ),
      );
    },
  },
  {
    path: ['trust', 'remove'],
    summary: 'stop trusting an issuer',
    usage: 'ISSUER',
    args: ['ISSUER'],
    async run(s, _values, arg) {
      const issuer = arg('ISSUER');
      if (!(await s.admin.trust.remove(issuer))) throw new CliError(`issuer "${issuer}" is not trusted`);
      if (s.json) {
        s.printJson({ issuer, removed: true });
        return;
      }
      s.print(`Removed trusted issuer "${issuer}"; ${s.admin.propagation}`);
    },
  },
];
