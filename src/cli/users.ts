import type { UserView } from '../admin/services/users.js';
import { describeIssues } from '../oauth/client-metadata.js';
import { customClaimNameProblem, userClaimsSchema, type UserClaims } from '../users/claims.js';
import { MAX_PASSWORD_LENGTH } from '../users/password.js';
import { rolesSchema } from '../users/roles.js';
import { passwordSchema, usernameSchema } from '../users/schema.js';
import { CliError, UsageError, str, strs, table, type Command, type Session, type Values } from './common.js';

/** The OIDC standard claims, in the order OIDC Core §5.1 lists them. */
const CLAIM_NAMES = Object.keys(userClaimsSchema.shape);
const BOOLEAN_CLAIMS = new Set(['email_verified', 'phone_number_verified']);
const ADDRESS_FIELDS = ['formatted', 'street_address', 'locality', 'region', 'postal_code', 'country'];

const PASSWORD_STDIN_HELP = [
  '  --password-stdin       read the password from standard input: a pipe or a file, of which one trailing',
  '                         newline is removed; on a terminal, a prompt that does not echo. A password is',
  '                         never accepted as an argument (it would show in ps and in the shell history).',
];

/** `--password` is registered only to refuse it with a reason rather than "unknown option". */
function refusePasswordArgument(v: Values): void {
  if (v.password !== undefined) {
    throw new UsageError(
      '--password is not accepted: a password on the command line shows in ps and in the shell history; pipe it in with --password-stdin',
    );
  }
}

function requirePasswordStdin(v: Values): void {
  if (v['password-stdin'] !== true) {
    throw new UsageError('--password-stdin is required: the password is read from standard input, never from an argument');
  }
}

/** Standard input -> a valid password. Only one trailing newline (LF or CRLF) is removed. */
async function readPassword(s: Session, prompt: string): Promise<string> {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit (what the length limit counts), plus a BOM and a newline.
  const raw = await s.readStdin({ prompt, maxBytes: MAX_PASSWORD_LENGTH * 3 + 8 });
  const password = raw.replace(/\r?\n$/, '');
  if (password === '') {
    throw new UsageError(`no password on standard input (e.g. printf '%s' "$PASSWORD" | latchkey … --password-stdin)`);
  }
  if (/[\r\n]/.test(password)) {
    // A browser's password field cannot hold a line break: such a password could never log in.
    throw new UsageError('the password on standard input spans several lines (only one trailing newline is removed)');
  }
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

function parseUsername(raw: string | undefined): string {
  if (raw === undefined) throw new UsageError('--username is required');
  const parsed = usernameSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`--username: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}

/** --email, --email-verified, --name and --claim KEY=VALUE -> validated OIDC claims. */
function buildClaims(v: Values): UserClaims {
  const claims: Record<string, unknown> = {};
  const address: Record<string, string> = {};
  const set = (target: Record<string, unknown>, key: string, value: unknown) => {
    if (key in target) throw new UsageError(`the ${target === address ? 'address.' : ''}${key} claim is given twice`);
    target[key] = value;
  };
  const nonEmpty = (what: string, value: string) => {
    if (value === '') throw new UsageError(`${what} must not be empty`);
    return value;
  };

  const email = str(v, 'email');
  if (email !== undefined) set(claims, 'email', nonEmpty('--email', email));
  if (v['email-verified'] === true) {
    if (email === undefined) throw new UsageError('--email-verified needs --email');
    set(claims, 'email_verified', true);
  }
  const name = str(v, 'name');
  if (name !== undefined) set(claims, 'name', nonEmpty('--name', name));

  for (const arg of strs(v, 'claim')) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new UsageError(`--claim must be KEY=VALUE (got "${arg}")`);
    const key = arg.slice(0, eq);
    const value = nonEmpty(`--claim ${key}`, arg.slice(eq + 1));
    if (key === 'sub') throw new UsageError("--claim sub: the sub is the user's id, which Latchkey assigns");
    if (key.startsWith('address.')) {
      const field = key.slice('address.'.length);
      if (!ADDRESS_FIELDS.includes(field))
        throw new UsageError(`--claim ${key}: the address claim's fields are ${ADDRESS_FIELDS.join(', ')}`);
      set(address, field, value);
    } else if (key === 'address') {
      throw new UsageError('--claim address: give its fields as address.FIELD=VALUE (address.country=FR, …)');
    } else if (!CLAIM_NAMES.includes(key)) {
      // A custom claim: a string here; other JSON values through `latchkey users set-claims`.
      const problem = customClaimNameProblem(key);
      if (problem) throw new UsageError(`--claim ${key}: ${problem}`);
      set(claims, key, value);
    } else if (BOOLEAN_CLAIMS.has(key)) {
      if (value !== 'true' && value !== 'false') throw new UsageError(`--claim ${key} must be true or false (got "${value}")`);
      set(claims, key, value === 'true');
    } else if (key === 'updated_at') {
      if (!/^\d{1,15}$/.test(value)) throw new UsageError(`--claim updated_at must be seconds since 1970 (got "${value}")`);
      set(claims, key, Number(value));
    } else {
      set(claims, key, value);
    }
  }
  if (Object.keys(address).length) claims.address = address;

  const parsed = userClaimsSchema.safeParse(claims);
  if (!parsed.success) throw new UsageError(`invalid claims: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

/** --role ROLE… -> a valid, sorted set of roles. */
function parseRoles(v: Values): string[] {
  const parsed = rolesSchema.safeParse(strs(v, 'role'));
  if (!parsed.success) throw new UsageError(`--role: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

const ROLE_HELP = '  --role ROLE            a role, e.g. admin (lets the user into the admin console); repeat for several';

/** The user as --json shows it (the admin API's view): never the password hash. `id` is the OIDC `sub`. */
const userJson = (u: UserView) => ({
  id: u.id,
  username: u.username,
  claims: u.claims,
  roles: u.roles,
  created_at: u.created_at,
  updated_at: u.updated_at,
});

/** A claim value in the table: strings as they are, anything else as JSON (the claims are JSON). */
const cell = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function describeUser(u: UserView): string {
  const claims = u.claims;
  const order = [
    ...CLAIM_NAMES,
    ...Object.keys(claims)
      .filter((k) => !CLAIM_NAMES.includes(k))
      .sort(),
  ];
  const claimRows = order.flatMap((k): [string, string][] => {
    const val = claims[k];
    if (val === undefined) return [];
    if (val && typeof val === 'object' && !Array.isArray(val)) return Object.entries(val).map(([f, x]) => [`${k}.${f}`, cell(x)]);
    return [[k, cell(val)]];
  });
  const rows: [string, string][] = [
    ['id (sub)', u.id],
    ['username', u.username],
    ...claimRows,
    ['roles', u.roles.length ? u.roles.join(' ') : '-'],
    ['password', 'set (stored only as a hash)'],
    ['created_at', u.created_at],
    ['updated_at', u.updated_at],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(width)}  ${val}`).join('\n');
}

/** By username (whatever its case) or, failing that, by id (the `sub` found in tokens and logs). */
async function findOrFail(s: Session, nameOrId: string): Promise<UserView> {
  const user = await s.admin.users.find(nameOrId);
  if (!user) throw new CliError(`no user named "${nameOrId}"`);
  return user;
}

function alreadyExists(username: string, existing: UserView | undefined): CliError {
  const as = existing && existing.username !== username ? ` (as "${existing.username}": usernames ignore case)` : '';
  return new CliError(`a user named "${username}" already exists${as}`);
}

const lookupNote = "USERNAME is matched whatever its case; the user's id (the OIDC sub) works too.";

export const userCommands: Command[] = [
  {
    path: ['users', 'create'],
    summary: 'create a user account; the password comes from standard input',
    usage: '--username USERNAME --password-stdin [--email EMAIL [--email-verified]] [--name NAME] [--claim KEY=VALUE]… [--role ROLE]…',
    help: [
      '  --username USERNAME    the login name; unique whatever its case ("Alice" and "alice" are one account)',
      ...PASSWORD_STDIN_HELP,
      '  --email EMAIL          the email claim',
      "  --email-verified       also set email_verified: true (the address is known to be the user's)",
      '  --name NAME            the name claim (full name, for display)',
      '  --claim KEY=VALUE      another OIDC standard claim: given_name=Alice, locale=fr-FR, phone_number=…,',
      '                         address.country=FR, …, or a custom claim with a string value (department=sales;',
      '                         other JSON values with `latchkey users set-claims`); repeat for several',
      ROLE_HELP,
    ].join('\n'),
    notes: [
      "The user's id, the OIDC sub, is random, assigned here, and never changes. Example:",
      '  printf \'%s\' "$PASSWORD" | latchkey users create --username alice --email alice@example.com --password-stdin',
    ].join('\n'),
    options: {
      username: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      password: { type: 'string' },
      email: { type: 'string' },
      'email-verified': { type: 'boolean' },
      name: { type: 'string' },
      claim: { type: 'string', multiple: true },
      role: { type: 'string', multiple: true },
    },
    async run(s, values) {
      refusePasswordArgument(values);
      const username = parseUsername(str(values, 'username'));
      const claims = buildClaims(values);
      const roles = parseRoles(values);
      requirePasswordStdin(values);
      // Checked before asking for the password: on a terminal, nobody types one in vain.
      const existing = await s.admin.users.find(username);
      if (existing && existing.username.toLowerCase() === username.toLowerCase()) throw alreadyExists(username, existing);
      const password = await readPassword(s, `Password for ${username}: `);
      const user = await s.admin.users.create({ username, password, claims, roles });
      if (!user) throw alreadyExists(username, await s.admin.users.find(username)); // created meanwhile
      if (s.json) {
        s.printJson(userJson(user));
        return;
      }
      s.print(`Created user "${user.username}".\n`);
      s.print(describeUser(user));
    },
  },
  {
    path: ['users', 'list'],
    summary: 'list user accounts',
    usage: '',
    async run(s) {
      const users = await s.admin.users.list();
      if (s.json) {
        s.printJson(users.map(userJson));
        return;
      }
      if (users.length === 0) {
        s.print('No users.');
        return;
      }
      s.print(
        table(
          ['USERNAME', 'ID (SUB)', 'EMAIL', 'ROLES', 'CREATED_AT', 'NAME'],
          users.map((u) => [u.username, u.id, cell(u.claims.email ?? ''), u.roles.join(' '), u.created_at, cell(u.claims.name ?? '')]),
        ),
      );
    },
  },
  {
    path: ['users', 'show'],
    summary: "show a user's id and claims (never the password hash)",
    usage: 'USERNAME',
    args: ['USERNAME'],
    notes: lookupNote,
    async run(s, _values, arg) {
      const name = arg('USERNAME');
      const user = await findOrFail(s, name);
      if (s.json) {
        s.printJson(userJson(user));
        return;
      }
      s.print(describeUser(user));
    },
  },
  {
    path: ['users', 'set-roles'],
    summary: "replace a user's roles (none given: the user has none)",
    usage: 'USERNAME [--role ROLE]…',
    args: ['USERNAME'],
    help: ROLE_HELP,
    notes: `${lookupNote}\nThe roles given replace the user's roles. Access tokens already issued keep the roles they carry until they expire. Example:\n  latchkey users set-roles alice --role admin --role billing`,
    options: { role: { type: 'string', multiple: true } },
    async run(s, values, arg) {
      const name = arg('USERNAME');
      const roles = parseRoles(values);
      const user = await findOrFail(s, name);
      if (!(await s.admin.users.setRoles(user, roles))) throw new CliError(`no user named "${name}"`); // deleted meanwhile
      if (s.json) {
        s.printJson({ id: user.id, username: user.username, roles });
        return;
      }
      s.print(roles.length ? `Roles of "${user.username}": ${roles.join(' ')}.` : `"${user.username}" has no roles now.`);
    },
  },
  {
    path: ['users', 'set-claims'],
    summary: "change a user's claims with a JSON merge patch (null removes a claim)",
    usage: 'USERNAME --merge \'{"department": "sales", "nickname": null}\'',
    args: ['USERNAME'],
    help: [
      "  --merge JSON           a JSON merge patch (RFC 7396) of the user's claims: each member sets that claim",
      '                         (standard or custom; any JSON value), null removes it, objects merge member by member',
    ].join('\n'),
    notes: [
      lookupNote,
      'Custom claim names: a letter, then up to 63 letters, digits or _ . : - (or an https:// URL); names the',
      'protocol uses (iss, sub, aud, exp, scope, client_id, roles, …) are refused. All claims together take at',
      'most 8 KiB as JSON. Tokens already issued keep the claims they carry. Example:',
      '  latchkey users set-claims alice --merge \'{"department": "sales", "teams": ["eu", "b2b"]}\'',
    ].join('\n'),
    options: { merge: { type: 'string' } },
    async run(s, values, arg) {
      const name = arg('USERNAME');
      const raw = str(values, 'merge');
      if (raw === undefined) throw new UsageError('--merge is required: a JSON object, e.g. --merge \'{"department": "sales"}\'');
      let patch: unknown;
      try {
        patch = JSON.parse(raw);
      } catch {
        throw new UsageError('--merge must be JSON (a merge patch object, e.g. {"department": "sales"})');
      }
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
        throw new UsageError('--merge must be a JSON object: each member a claim to set, or null to remove it');
      }
      const found = await findOrFail(s, name);
      const user = await s.admin.users.setClaims(found, patch as Record<string, unknown>);
      if (!user) throw new CliError(`no user named "${name}"`); // deleted meanwhile
      if (s.json) {
        s.printJson({ id: user.id, username: user.username, claims: user.claims });
        return;
      }
      s.print(`Claims of "${user.username}" changed.\n`);
      s.print(describeUser(user));
    },
  },
  {
    path: ['users', 'delete'],
    summary: 'delete a user with their sessions, grants and consents',
    usage: 'USERNAME',
    args: ['USERNAME'],
    notes: lookupNote,
    async run(s, _values, arg) {
      const name = arg('USERNAME');
      const user = await findOrFail(s, name);
      if (!(await s.admin.users.delete(user))) throw new CliError(`no user named "${name}"`);
      if (s.json) {
        s.printJson({ id: user.id, username: user.username, deleted: true });
        return;
      }
      s.print(`Deleted user "${user.username}" (id ${user.id}) with their sessions, grants and remembered consents.`);
    },
  },
  {
    path: ['users', 'revoke-consent'],
    summary: "withdraw a user's consent to a client and revoke the tokens they gave it",
    usage: 'USERNAME CLIENT_ID',
    args: ['USERNAME', 'CLIENT_ID'],
    notes: `${lookupNote}\nEvery grant the user gave the client is revoked: its refresh tokens stop working at once, its access tokens introspect as inactive, and the consent page is shown again next time.`,
    async run(s, _values, arg) {
      const name = arg('USERNAME');
      const clientId = arg('CLIENT_ID');
      const user = await findOrFail(s, name);
      if (!(await s.admin.clients.find(clientId))) throw new CliError(`no client with client_id "${clientId}"`);
      const hadConsent = await s.admin.users.revokeConsent(user, clientId);
      if (s.json) {
        s.printJson({ id: user.id, username: user.username, client_id: clientId, consent_revoked: hadConsent });
        return;
      }
      s.print(
        hadConsent
          ? `Withdrew ${user.username}'s consent to "${clientId}" and revoked the grants they gave it.`
          : `${user.username} had no remembered consent for "${clientId}"; any grants to it are revoked all the same.`,
      );
    },
  },
  {
    path: ['users', 'set-password'],
    summary: "replace a user's password (from standard input), log them out everywhere and revoke their tokens",
    usage: 'USERNAME --password-stdin',
    args: ['USERNAME'],
    help: PASSWORD_STDIN_HELP.join('\n'),
    notes: `${lookupNote}\nThe user's browser sessions end and every grant they gave is revoked (refresh tokens stop at once, access tokens introspect as inactive): they log in again with the new password.`,
    options: { 'password-stdin': { type: 'boolean' }, password: { type: 'string' } },
    async run(s, values, arg) {
      const name = arg('USERNAME');
      refusePasswordArgument(values);
      requirePasswordStdin(values);
      const user = await findOrFail(s, name);
      const change = await s.admin.users.setPassword(user, await readPassword(s, `New password for ${user.username}: `));
      if (!change) throw new CliError(`no user named "${name}"`); // deleted meanwhile
      const { sessionsEnded, grantsRevoked } = change;
      if (s.json) {
        s.printJson({
          id: user.id,
          username: user.username,
          password_changed: true,
          sessions_ended: sessionsEnded,
          grants_revoked: grantsRevoked,
        });
        return;
      }
      const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
      s.print(
        `Changed the password of "${user.username}"; ended ${plural(sessionsEnded, 'browser session')} and revoked ${plural(grantsRevoked, 'grant')} (their refresh and access tokens).`,
      );
    },
  },
  {
    path: ['users', 'unlock'],
    summary: "clear the account's sign-in lockout (its count of failed sign-ins)",
    usage: 'USERNAME',
    args: ['USERNAME'],
    notes: `${lookupNote}\nThe counts kept per client address are not the account's and stay.`,
    async run(s, _values, arg) {
      const name = arg('USERNAME');
      const user = await findOrFail(s, name);
      const cleared = await s.admin.users.unlock(user);
      if (cleared === undefined) throw new CliError(`no user named "${name}"`); // deleted meanwhile
      if (s.json) {
        s.printJson({ id: user.id, username: user.username, failures_cleared: cleared });
        return;
      }
      s.print(
        cleared
          ? `Cleared the failed sign-ins of "${user.username}": they can sign in again.`
          : `"${user.username}" had no failed sign-ins counted.`,
      );
    },
  },
];
