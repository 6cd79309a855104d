import { applyBootstrap, bootstrapFileNotice, readBootstrapFile } from '../bootstrap.js';
import { PasswordHasher, passwordHashParameters } from '../users/password.js';
import { table, type Command } from './common.js';

/** Row labels, in the order applyBootstrap applies them; any kind it adds later is listed after these. */
const KINDS: Record<string, string> = { resources: 'resource', clients: 'client', users: 'user', trusted_issuers: 'trusted_issuer' };

export const importCommands: Command[] = [
  {
    path: ['import'],
    summary: 'apply a bootstrap JSON file (idempotent upsert of resources, clients and users)',
    usage: 'FILE',
    args: ['FILE'],
    directOnly: 'applies a bootstrap file to the database (LATCHKEY_BOOTSTRAP at start-up does it on a running server)',
    async run(s, _values, arg) {
      const file = arg('FILE');
      // Validate the whole file before opening the database: a typo fails fast and changes nothing.
      const bootstrap = readBootstrapFile(file, { issuer: s.config.issuer });
      // After reading: a file refused anyway gets its one line of reason, nothing more.
      const notice = bootstrapFileNotice(file);
      if (notice) s.warn(notice);
      const result = await applyBootstrap(await s.db(), await s.secrets(), bootstrap, new PasswordHasher(passwordHashParameters(s.config)));
      if (s.json) {
        s.printJson(result);
        return;
      }
      const outcomes = result as unknown as Record<string, Record<string, string>>;
      const kinds = [...Object.keys(KINDS), ...Object.keys(outcomes).filter((k) => !(k in KINDS))];
      const rows = kinds.flatMap((kind) => Object.entries(outcomes[kind] ?? {}).map(([id, r]) => [KINDS[kind] ?? kind, id, r]));
      s.print(rows.length ? table(['KIND', 'ID', 'RESULT'], rows) : `${file} holds nothing to apply.`);
    },
  },
];
