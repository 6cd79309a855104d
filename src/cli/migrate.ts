import { loadMigrations, migrate } from '../store/migrate.js';
import type { Command } from './common.js';

export const migrateCommands: Command[] = [
  {
    path: ['migrate'],
    summary: 'apply pending database migrations (other commands do this too)',
    usage: '',
    directOnly: 'changes the database schema (a server applies migrations when it starts)',
    async run(s) {
      const applied = await migrate(await s.db({ migrate: false }));
      const latest = loadMigrations().at(-1)?.name ?? null;
      if (s.json) {
        s.printJson({ applied, latest });
        return;
      }
      s.print(applied.length ? `Applied migrations: ${applied.join(', ')}` : `Database is up to date (latest migration: ${latest}).`);
    },
  },
];
