import { applyBootstrap, readBootstrapFile } from '../bootstrap.js';
import { table, type Command } from './common.js';

export const importCommands: Command[] = [
  {
    path: ['import'],
    summary: 'apply a bootstrap JSON file (idempotent upsert of clients and resources)',
    usage: 'FILE',
    args: ['FILE'],
    async run(s, _values, [file]) {
      // Validate the whole file before opening the database: a typo fails fast and changes nothing.
      const bootstrap = readBootstrapFile(file!);
      const result = await applyBootstrap(await s.db(), await s.secrets(), bootstrap);
      if (s.json) return s.printJson(result);
      const rows = [
        ...Object.entries(result.resources).map(([id, r]) => ['resource', id, r]),
        ...Object.entries(result.clients).map(([id, r]) => ['client', id, r]),
      ];
      s.print(rows.length ? table(['KIND', 'ID', 'RESULT'], rows) : `${file} holds no clients or resources.`);
    },
  },
];
