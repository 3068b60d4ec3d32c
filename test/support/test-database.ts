import { Client } from 'pg';
import { Keyring } from '@broker/crypto';
import { ENCRYPTION_KEYS, randomSuffix, sleep } from './broker-process';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one test file; the broker migrates it when it starts. */
export async function createTestDatabase(
  label: string,
): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `broker_test_${label}_${randomSuffix()}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    name,
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const client = new Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export async function query<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/** The refresh token the broker stored for a connection, opened with the test keyring. */
export async function storedRefreshToken(url: string, key: string): Promise<string> {
  const [row] = await query<{ id: string; refresh_token: string }>(
    url,
    'SELECT id, refresh_token FROM connections WHERE key = $1',
    [key],
  );
  return Keyring.parse(ENCRYPTION_KEYS).decrypt(row.refresh_token, {
    table: 'connections',
    column: 'refresh_token',
    rowId: row.id,
  });
}

/**
 * Makes a connection's stored token expired, as time would, and announces it the way the broker
 * does (NOTIFY with the new token version), so every replica's cache lets go of it.
 */
export async function expireStoredToken(url: string, key: string): Promise<void> {
  const [row] = await query<{ id: string; token_version: number }>(
    url,
    `UPDATE connections SET expires_at = now() - interval '1 second', token_version = token_version + 1
      WHERE key = $1 RETURNING id, token_version`,
    [key],
  );
  await query(url, 'SELECT pg_notify($1, $2)', [
    'broker_connection_changed',
    JSON.stringify({ id: row.id, key, v: row.token_version, kind: 'tokens' }),
  ]);
  await sleep(200);
}
