import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { migratedDatabase, type MigratedDatabase } from '../../../../test/support/migrated-database';
import {
  DUE_SLICE_SQL,
  inIndexOrder,
  OVERDUE_COUNT_SQL,
  SOONEST_REFRESH_TOKEN_EXPIRY_SQL,
} from './schedule-reads';

const ROWS = 20_000;

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  Plans?: PlanNode[];
}

/** Every plan node that reads `connections`. */
function connectionReads(node: PlanNode): PlanNode[] {
  const own = node['Relation Name'] === 'connections' ? [node] : [];
  return [...own, ...(node.Plans ?? []).flatMap(connectionReads)];
}

/** Rows of `connections` a node looked at: those it returned and those it threw away. */
function rowsRead(node: PlanNode): number {
  return (
    (node['Actual Rows'] +
      (node['Rows Removed by Filter'] ?? 0) +
      (node['Rows Removed by Index Recheck'] ?? 0)) *
    node['Actual Loops']
  );
}

/**
 * The scheduler's idle reads, planned on a table the planner knows nothing about: 20,000 active
 * connections, none due, inserted in one statement with autovacuum off and every statistic
 * removed (what a table looks like right after a bulk import, before autovacuum catches up).
 */
describe('schedule reads (real Postgres, no statistics)', () => {
  let database: MigratedDatabase;
  let db: DataSource;

  beforeAll(async () => {
    database = await migratedDatabase('schedule_reads');
    ({ db } = database);
    await db.query(`ALTER TABLE connections SET (autovacuum_enabled = false)`);
    const integrations = [randomUUID(), randomUUID()];
    for (const [index, id] of integrations.entries()) {
      await db.query(
        `INSERT INTO integrations (id, key, provider, client_id, client_secret, config)
         VALUES ($1, $2, 'bloomerang', 'c', 'sealed', '{}')`,
        [id, `i${index}`],
      );
    }
    // Planned between one and two days ahead; half hold a refresh token that lapses in 90 days.
    await db.query(
      `INSERT INTO connections (id, key, integration_id, status, next_refresh_at, refresh_token_expires_at)
       SELECT gen_random_uuid(), 'c' || g, (ARRAY[$1::uuid, $2::uuid])[1 + g % 2], 'active',
              now() + interval '1 day' + (g % 86400) * interval '1 second',
              CASE WHEN g % 4 < 2 THEN now() + interval '90 days' END
         FROM generate_series(1, ${ROWS}) g`,
      integrations,
    );
    await db.query(`DELETE FROM pg_statistic WHERE starelid = 'connections'::regclass`);
  });

  afterAll(async () => {
    await database?.drop();
  });

  async function plan(
    run: (sql: string, parameters?: unknown[]) => Promise<unknown>,
    sql: string,
    parameters?: unknown[],
  ) {
    const [row] = (await run(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, parameters)) as {
      'QUERY PLAN': { Plan: PlanNode }[];
    }[];
    return connectionReads(row['QUERY PLAN'][0].Plan);
  }
  const guarded = (sql: string, parameters?: unknown[]) => inIndexOrder(db, sql, parameters);
  const unguarded = (sql: string, parameters?: unknown[]) => db.query(sql, parameters);

  it('left to its statistics, the overdue count as it was read every active row (what this guards against)', async () => {
    const reads = await plan(
      unguarded,
      `SELECT count(*) AS count FROM connections
        WHERE status IN ('active', 'error') AND next_refresh_at IS NOT NULL
          AND next_refresh_at < now() - interval '60 seconds' AND status = 'active'`,
    );
    expect(reads.reduce((sum, node) => sum + rowsRead(node), 0)).toBe(ROWS);
  });

  it.each([
    ['the overdue count', OVERDUE_COUNT_SQL, undefined, 0],
    ['the soonest refresh-token expiry per integration', SOONEST_REFRESH_TOKEN_EXPIRY_SQL, undefined, 2],
    [
      'a horizon slice ten minutes ahead',
      DUE_SLICE_SQL,
      ['-infinity', 'ffffffff-ffff-ffff-ffff-ffffffffffff', new Date(Date.now() + 600_000)],
      0,
    ],
  ])('%s reads only what it returns, through an index', async (_name, sql, parameters, returned) => {
    const reads = await plan(guarded, sql, parameters);
    expect(reads.length).toBeGreaterThan(0);
    for (const node of reads) {
      expect(node['Node Type']).not.toBe('Seq Scan');
      expect(node['Index Name']).toMatch(/^connections_(schedule|refresh_token_expiry)_idx$/);
    }
    expect(reads.reduce((sum, node) => sum + rowsRead(node), 0)).toBe(returned);
  });
});
