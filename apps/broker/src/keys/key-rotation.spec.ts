import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Keyring } from '@broker/crypto';
import { migratedDatabase, type MigratedDatabase } from '../../../../test/support/migrated-database';
import { rotateKeys } from './key-rotation';

const OLD = `old:${Buffer.alloc(32, 1).toString('base64')}`;
const NEW = `new:${Buffer.alloc(32, 2).toString('base64')}`;

describe('rotateKeys (real Postgres)', () => {
  let database: MigratedDatabase;
  let db: DataSource;
  const oldRing = Keyring.parse(OLD);
  const rotatedRing = Keyring.parse(`${NEW},${OLD}`);
  const newOnly = Keyring.parse(NEW);
  const integrationId = randomUUID();
  const connectionIds = [randomUUID(), randomUUID(), randomUUID()];

  beforeAll(async () => {
    database = await migratedDatabase('rotate');
    ({ db } = database);
    await db.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret, config) VALUES ($1, 'i', 'bloomerang', 'c', $2, '{}')`,
      [
        integrationId,
        oldRing.encrypt('client-secret', {
          table: 'integrations',
          column: 'client_secret',
          rowId: integrationId,
        }),
      ],
    );
    for (const [index, id] of connectionIds.entries()) {
      await db.query(
        `INSERT INTO connections (id, key, integration_id, status, access_token, refresh_token)
         VALUES ($1, $2, $3, 'active', $4, $5)`,
        [
          id,
          `c${index}`,
          integrationId,
          oldRing.encrypt(`access-${index}`, { table: 'connections', column: 'access_token', rowId: id }),
          index === 2
            ? null
            : oldRing.encrypt(`refresh-${index}`, {
                table: 'connections',
                column: 'refresh_token',
                rowId: id,
              }),
        ],
      );
    }
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('re-encrypts every stored secret under the first key, readable without the old one', async () => {
    const report = await rotateKeys(db, rotatedRing);
    expect(report.reencrypted).toEqual({
      'integrations.client_secret': 1,
      'connections.access_token': 3,
      'connections.refresh_token': 2,
      'oauth_states.code_verifier': 0,
    });
    const [integration] = await db.query('SELECT client_secret FROM integrations WHERE id = $1', [
      integrationId,
    ]);
    expect(newOnly.keyIdOf(integration.client_secret)).toBe('new');
    expect(
      newOnly.decrypt(integration.client_secret, {
        table: 'integrations',
        column: 'client_secret',
        rowId: integrationId,
      }),
    ).toBe('client-secret');
    for (const [index, id] of connectionIds.entries()) {
      const [row] = await db.query('SELECT access_token, refresh_token FROM connections WHERE id = $1', [id]);
      expect(
        newOnly.decrypt(row.access_token, { table: 'connections', column: 'access_token', rowId: id }),
      ).toBe(`access-${index}`);
      if (index !== 2) {
        expect(
          newOnly.decrypt(row.refresh_token, { table: 'connections', column: 'refresh_token', rowId: id }),
        ).toBe(`refresh-${index}`);
      }
    }
  });

  it('has nothing left to do the second time', async () => {
    expect((await rotateKeys(db, rotatedRing)).total).toBe(0);
  });

  it('never overwrites a value written meanwhile (the update is conditional on the value read)', async () => {
    const id = connectionIds[0];
    const stale = oldRing.encrypt('stale', { table: 'connections', column: 'access_token', rowId: id });
    await db.query('UPDATE connections SET access_token = $2 WHERE id = $1', [id, stale]);
    // A refresh lands between the read and the write of the rotation: simulate with a trigger-free race by
    // rotating a ring whose read sees `stale`, after which the row already holds a newer value.
    const fresh = rotatedRing.encrypt('fresh', { table: 'connections', column: 'access_token', rowId: id });
    const racing = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop !== 'query') return Reflect.get(target, prop, receiver);
        return async (sql: string, params?: unknown[]) => {
          if (sql.trimStart().startsWith('UPDATE') && params?.[0] === id) {
            await target.query('UPDATE connections SET access_token = $2 WHERE id = $1', [id, fresh]);
          }
          return target.query(sql, params);
        };
      },
    });
    await rotateKeys(racing, rotatedRing);
    const [row] = await db.query('SELECT access_token FROM connections WHERE id = $1', [id]);
    expect(row.access_token).toBe(fresh);
  });
});
