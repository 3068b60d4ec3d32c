import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../apps/broker/src/database/data-source';
import { runMigrations } from '../../apps/broker/src/database/run-migrations';
import { createTestDatabase } from './test-database';

export interface MigratedDatabase {
  url: string;
  db: DataSource;
  /** Closes the DataSource and drops the database. */
  drop(): Promise<void>;
}

/** A fresh database with the broker's schema for one spec file, and a DataSource on it. */
export async function migratedDatabase(label: string, poolSize = 2): Promise<MigratedDatabase> {
  const database = await createTestDatabase(label);
  await runMigrations(database.url);
  const db = new DataSource(dataSourceOptions(database.url, poolSize));
  await db.initialize();
  return {
    url: database.url,
    db,
    drop: async () => {
      await db.destroy();
      await database.drop();
    },
  };
}
