import { DataSource } from 'typeorm';
import { Keyring } from '@broker/crypto';
import { SealedColumn } from '../security/secret-cipher';

const SEALED_COLUMNS: SealedColumn[] = [
  { table: 'integrations', column: 'client_secret' },
  { table: 'connections', column: 'access_token' },
  { table: 'connections', column: 'refresh_token' },
  { table: 'oauth_states', column: 'code_verifier' },
];

const BATCH = 500;

export interface RotationReport {
  reencrypted: Record<string, number>;
  total: number;
}

/**
 * Re-encrypts every sealed value not yet under the keyring's first key, in batches, while the
 * service runs: each UPDATE lands only if the value is still the one read, so a token written by
 * a refresh meanwhile (already under the first key) is never overwritten with an older one.
 */
export async function rotateKeys(
  db: DataSource,
  keyring: Keyring,
  log: (line: string) => void = () => undefined,
): Promise<RotationReport> {
  const reencrypted: Record<string, number> = {};
  const current = `v1.${keyring.primaryKeyId}.%`;
  for (const { table, column } of SEALED_COLUMNS) {
    let count = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { id: string; value: string }[] = await db.query(
        `SELECT id, ${column} AS value FROM ${table}
          WHERE ${column} IS NOT NULL AND ${column} NOT LIKE $1 AND id > $2 ORDER BY id LIMIT $3`,
        [current, after, BATCH],
      );
      if (rows.length === 0) break;
      for (const row of rows) {
        const next = keyring.reencrypt(row.value, { table, column, rowId: row.id });
        const [, affected]: [unknown, number] = await db.query(
          `UPDATE ${table} SET ${column} = $3 WHERE id = $1 AND ${column} = $2`,
          [row.id, row.value, next],
        );
        count += affected;
      }
      after = rows[rows.length - 1].id;
    }
    reencrypted[`${table}.${column}`] = count;
    log(`${table}.${column}: ${count} value(s) re-encrypted under key "${keyring.primaryKeyId}"`);
  }
  return { reencrypted, total: Object.values(reencrypted).reduce((sum, n) => sum + n, 0) };
}
