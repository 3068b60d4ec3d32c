import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { BrokerEnvironment } from '../config/environment';
import { migratedDatabase, type MigratedDatabase } from '../../../../test/support/migrated-database';
import { SecretCipher } from '../security/secret-cipher';
import { refreshTokenDigest, TokenStore } from './token-store';

const KEYS = `k1:${Buffer.alloc(32, 3).toString('base64')}`;

/** The lease, its fence at send time and the write-ahead record, on a real Postgres. */
describe('TokenStore: lease, fence and write-ahead record (real Postgres)', () => {
  const integrationId = randomUUID();
  let database: MigratedDatabase;
  let db: DataSource;
  let store: TokenStore;

  const row = async (id: string) =>
    (
      await db.query(
        `SELECT lease_token, lease_expires_at > now() + interval '10 seconds' AS covers_call,
                refresh_in_flight_fence, refresh_in_flight_digest, refresh_in_flight_at IS NOT NULL AS in_flight,
                last_attempted_at IS NOT NULL AS attempted, refresh_not_before
           FROM connections WHERE id = $1`,
        [id],
      )
    )[0];
  const connection = async () => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO connections (id, key, integration_id, status) VALUES ($1, $2, $3, 'active')`,
      [id, `c-${id.slice(0, 8)}`, integrationId],
    );
    return id;
  };
  /** Makes the lease run out, as time would, without anyone taking it. */
  const expire = (id: string) =>
    db.query(`UPDATE connections SET lease_expires_at = now() - interval '1 second' WHERE id = $1`, [id]);

  beforeAll(async () => {
    database = await migratedDatabase('store');
    ({ db } = database);
    await db.query(
      `INSERT INTO integrations (id, key, provider, client_id, client_secret, config) VALUES ($1, 'i', 'bloomerang', 'c', 's', '{}')`,
      [integrationId],
    );
    store = new TokenStore(db, new SecretCipher({ BROKER_ENCRYPTION_KEYS: KEYS } as BrokerEnvironment));
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('sends under a lease whose time ran out while nobody took it, extended over the call, with the record', async () => {
    const id = await connection();
    const { lease } = (await store.tryAcquireLease(id, 5))!;
    await expire(id);
    expect(await store.beginRefresh(lease, 15, 'refresh-sent')).toBe(true);
    expect(await row(id)).toMatchObject({
      lease_token: lease.leaseToken,
      covers_call: true,
      refresh_in_flight_fence: lease.leaseToken,
      refresh_in_flight_digest: refreshTokenDigest('refresh-sent'),
      in_flight: true,
      attempted: true,
    });
    // A live lease (extended to cover the call) keeps everyone else out.
    expect(await store.tryAcquireLease(id, 5)).toBeNull();
  });

  it('refuses to send once another holder took the expired lease', async () => {
    const id = await connection();
    const first = (await store.tryAcquireLease(id, 5))!;
    await expire(id);
    const second = (await store.tryAcquireLease(id, 5))!;
    expect(second).not.toBeNull();
    expect(await store.beginRefresh(first.lease, 15, 'refresh-sent')).toBe(false);
    expect(await store.beginRefresh(second.lease, 15, 'refresh-sent')).toBe(true);
    expect((await row(id)).refresh_in_flight_fence).toBe(second.lease.leaseToken);
  });

  it('keeps the record through a failure left unsettled, and clears it with one that settles', async () => {
    const id = await connection();
    const first = (await store.tryAcquireLease(id, 5))!;
    await store.beginRefresh(first.lease, 15, 'refresh-sent');
    const failure = { status: 'active' as const, code: 'transient', message: 'lost', clearTokens: false };
    await store.writeFailure(id, first.lease, { ...failure, settled: false });
    expect(await row(id)).toMatchObject({ lease_token: null, in_flight: true });
    // The next holder sees it on the row its lease returns.
    const next = (await store.tryAcquireLease(id, 5))!;
    expect(next.row.refreshInFlightFence).toBe(first.lease.leaseToken);
    expect(next.row.refreshInFlightDigest).toBe(refreshTokenDigest('refresh-sent'));
    const notBefore = new Date(Date.now() + 60_000);
    await store.writeFailure(id, next.lease, { ...failure, notBefore });
    expect(await row(id)).toMatchObject({ in_flight: false, refresh_in_flight_fence: null });
    expect(new Date((await row(id)).refresh_not_before).getTime()).toBe(notBefore.getTime());
  });

  it('stores a rotated refresh token with a failure, and clears the record with the token write', async () => {
    const id = await connection();
    const held = (await store.tryAcquireLease(id, 5))!;
    await store.beginRefresh(held.lease, 15, 'refresh-sent');
    await store.writeFailure(id, held.lease, {
      status: 'error',
      code: 'invalid_response',
      message: 'unusable answer',
      clearTokens: false,
      rotatedRefreshToken: { refreshToken: 'refresh-rotated', expiresAt: null },
    });
    const after = (await store.findById(id))!;
    expect(store.open(after).refreshToken).toBe('refresh-rotated');
    expect(after.refreshInFlightFence).toBeNull();

    const again = (await store.tryAcquireLease(id, 5))!;
    await store.beginRefresh(again.lease, 15, 'refresh-rotated');
    const written = await store.writeTokens(id, again.lease, {
      tokens: { accessToken: 'a', tokenType: 'Bearer', expiresIn: 3600, expiresInDefaulted: false },
      previousRefreshToken: 'refresh-rotated',
      nextRefreshAt: new Date(Date.now() + 60_000),
    });
    expect(written).not.toBeNull();
    expect(await row(id)).toMatchObject({ in_flight: false, lease_token: null, refresh_not_before: null });
  });
});
