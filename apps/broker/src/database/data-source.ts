import { DataSource, DataSourceOptions } from 'typeorm';
import { ClientEntity } from '../clients/client.entity';
import { ConnectionEntity } from '../model/connection.entity';
import { OAuthStateEntity } from '../connections/oauth-state.entity';
import { IntegrationEntity } from '../model/integration.entity';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { AdminPersonEntity, AdminTokenEntity } from '../admin-identities/admin-token.entity';
import { migrations } from '../../../../migrations';

export const ENTITIES = [
  IntegrationEntity,
  ConnectionEntity,
  OAuthStateEntity,
  ClientEntity,
  AuditEventEntity,
  AdminTokenEntity,
  AdminPersonEntity,
];

/**
 * The one description of the database, shared by the app, the migration runner and the TypeORM
 * CLI. The schema comes from migrations only.
 */
export function dataSourceOptions(databaseUrl: string, poolSize = 20): DataSourceOptions {
  return {
    type: 'postgres',
    url: databaseUrl,
    entities: ENTITIES,
    migrations,
    migrationsTableName: 'schema_migrations',
    synchronize: false,
    // gen_random_uuid() is built into Postgres 13+; no extension to install.
    uuidExtension: 'pgcrypto',
    migrationsRun: false,
    // Off: a failed query would be logged with its parameters, sealed secrets among them.
    logging: false,
    extra: { max: poolSize, connectionTimeoutMillis: 5_000, application_name: 'token-broker' },
  };
}

/** Used by `typeorm migration:generate -d dist/apps/broker/src/database/data-source.js`. */
export default new DataSource(
  dataSourceOptions(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/broker'),
);
