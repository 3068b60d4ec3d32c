import type { DataSource } from 'typeorm';

/** Rows one read of the schedule returns at most. */
export const BATCH = 1_000;

/**
 * Runs a read of `connections` that the scheduler repeats while nothing is due, with the planner
 * forbidden to sort (`enable_sort = off` for this transaction alone).
 *
 * Each such query is written with an `ORDER BY` that only one index can deliver (the schedule
 * index `(next_refresh_at, id)`, or the refresh-token expiry index), so it reads that index's
 * range and nothing else. Left to its statistics the planner may choose otherwise: on a table
 * imported faster than autovacuum analyses it (a million rows in two minutes), it has once
 * answered the overdue count by walking `connections_status_key_idx` over every active row. With
 * sorting forbidden, every plan but the one ordered index costs more than any plan on that index,
 * whatever the statistics say.
 */
export function inIndexOrder<T>(db: DataSource, sql: string, parameters: unknown[] = []): Promise<T> {
  return db.transaction(async (manager) => {
    await manager.query('SET LOCAL enable_sort = off');
    return manager.query(sql, parameters) as Promise<T>;
  });
}

/**
 * Active connections whose planned refresh is more than a minute late: the schedule index's range
 * before that minute, in its own order (see `inIndexOrder`), so the count reads only those rows.
 */
export const OVERDUE_COUNT_SQL = `SELECT count(*) AS count FROM (
    SELECT status FROM connections
     WHERE status IN ('active', 'error') AND next_refresh_at IS NOT NULL
       AND next_refresh_at < now() - interval '60 seconds'
     ORDER BY next_refresh_at, id) overdue
  WHERE status = 'active'`;

/** Per integration, the soonest expiry of an active connection's refresh token: one index probe each. */
export const SOONEST_REFRESH_TOKEN_EXPIRY_SQL = `SELECT i.key AS integration,
    (SELECT c.refresh_token_expires_at FROM connections c
      WHERE c.integration_id = i.id AND c.status = 'active' AND c.refresh_token_expires_at IS NOT NULL
      ORDER BY c.refresh_token_expires_at LIMIT 1) AS "expiresAt"
  FROM integrations i`;

/** The next batch of the schedule after `($1, $2)`, due before `$3`, in the schedule index's order. */
export const DUE_SLICE_SQL = `SELECT id, token_version AS "tokenVersion", next_refresh_at AS "nextRefreshAt"
    FROM connections
   WHERE status IN ('active', 'error') AND next_refresh_at IS NOT NULL
     AND (next_refresh_at, id) > ($1::timestamptz, $2::uuid) AND next_refresh_at < $3
   ORDER BY next_refresh_at, id
   LIMIT ${BATCH}`;
