import 'reflect-metadata';
import { runMigrations } from './run-migrations';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL and exits. */
const databaseUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/broker';
runMigrations(databaseUrl, (line) => process.stdout.write(`${line}\n`))
  .then((applied) => {
    process.stdout.write(applied.length ? 'migrations done\n' : 'no pending migrations\n');
  })
  .catch((error: Error) => {
    process.stderr.write(`migration failed: ${error.message}\n`);
    process.exit(1);
  });
