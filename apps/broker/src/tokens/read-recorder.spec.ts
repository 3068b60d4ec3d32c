import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { BrokerEnvironment } from '../config/environment';
import { migratedDatabase, type MigratedDatabase } from '../../../../test/support/migrated-database';
import { ReadRecorder } from './read-recorder';

describe('ReadRecorder (real Postgres)', () => {
  let database: MigratedDatabase;
  let db: DataSource;
  const always = randomUUID();
  const whenRead = randomUUID();
  const env = { BROKER_READ_WINDOW_SECONDS: 3600 } as BrokerEnvironment;

  beforeAll(async () => {
    database = await migratedDatabase('reads');
    ({ db } = database);
    for (const [id, key, policy] of [
      [always, 'always', 'always'],
      [whenRead, 'read', 'when_read'],
    ]) {
      await db.query(
        `INSERT INTO integrations (id, key, provider, client_id, client_secret, config, refresh_ahead)
         VALUES ($1, $2, 'bloomerang', 'c', 'sealed', '{}', $3)`,
        [id, key, policy],
      );
      await db.query(
        `INSERT INTO connections (id, key, integration_id, status) VALUES (gen_random_uuid(), $1, $2, 'active')`,
        [`${key}-connection`, id],
      );
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function lastReads(): Promise<Record<string, boolean>> {
    const rows: { key: string; read: boolean }[] = await db.query(
      `SELECT key, last_read_at IS NOT NULL AS read FROM connections ORDER BY key`,
    );
    return Object.fromEntries(rows.map((row) => [row.key, row.read]));
  }

  it('collects only reads of when_read integrations, and writes them at the flush', async () => {
    const recorder = new ReadRecorder(db, env);
    await recorder.onModuleInit();
    try {
      recorder.record({ connectionKey: 'always-connection', integrationId: always });
      recorder.record({ connectionKey: 'read-connection', integrationId: whenRead });
      expect(await lastReads()).toEqual({ 'always-connection': false, 'read-connection': false });
      // One row touched: the always integration's read was never collected.
      expect(await recorder.flush()).toBe(1);
      expect(await lastReads()).toEqual({ 'always-connection': false, 'read-connection': true });
    } finally {
      await recorder.onApplicationShutdown();
    }
  });

  it('learns at the next flush that an integration turned to when_read', async () => {
    const recorder = new ReadRecorder(db, env);
    await recorder.onModuleInit();
    try {
      await db.query(`UPDATE integrations SET refresh_ahead = 'when_read' WHERE id = $1`, [always]);
      recorder.record({ connectionKey: 'always-connection', integrationId: always });
      expect(await recorder.flush()).toBe(0);
      recorder.record({ connectionKey: 'always-connection', integrationId: always });
      expect(await recorder.flush()).toBe(1);
      expect(await lastReads()).toEqual({ 'always-connection': true, 'read-connection': true });
    } finally {
      await recorder.onApplicationShutdown();
    }
  });
});
