import { Redis } from 'ioredis';
import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, expireStoredToken, query } from './support/test-database';
import { admin, getToken } from './support/http';
import {
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  issueBloomerangGrant,
} from './support/provider-flows';

const REDIS_DB = 13;
const HORIZON_SECONDS = 12;
const JOB_KEY = /^broker:token-refresh:(refresh\.([0-9a-f-]{36})\.(\d+))$/;

/**
 * The schedule at scale: Postgres holds it, Redis only what is due within the horizon. An api
 * replica queues a refresh planned inside the horizon at once; a worker's sweep brings the rest
 * as they come within reach, rebuilds them after a flush, and under `refreshAhead: when_read`
 * refreshes ahead only what callers read (and refresh tokens about to lapse).
 */
describe('scale: horizon schedule, refreshAhead, cursor paging', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let api: BrokerProcess;
  let worker: BrokerProcess | undefined;
  let apiKey: string;
  let redis: Redis;
  const env = () => ({
    DATABASE_URL: db.url,
    REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
    BROKER_RECONCILE_INTERVAL_SECONDS: '5',
    BROKER_SCHEDULE_HORIZON_SECONDS: String(HORIZON_SECONDS),
    BROKER_READ_WINDOW_SECONDS: '60',
  });
  const refreshCalls = () => sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const connection = async (key: string) => (await admin(api.url).get(`/admin/connections/${key}`)).body;
  const idOf = async (key: string) =>
    (await query<{ id: string }>(db.url, 'SELECT id FROM connections WHERE key = $1', [key]))[0].id;

  /** The refresh jobs Redis holds, as connection id → token versions. */
  async function queuedJobs(): Promise<Map<string, number[]>> {
    const jobs = new Map<string, number[]>();
    for (const key of await redis.keys('broker:token-refresh:refresh.*')) {
      const match = JOB_KEY.exec(key);
      if (match) jobs.set(match[2], [...(jobs.get(match[2]) ?? []), Number(match[3])]);
    }
    return jobs;
  }

  /** Imports connections the sandbox really authorized, their access tokens valid for 10 minutes. */
  async function importGranted(integration: string, keys: string[]): Promise<void> {
    const connections = [];
    for (const key of keys) {
      const grant = await issueBloomerangGrant(sandboxUrl);
      connections.push({
        key,
        integration,
        refreshToken: grant.refreshToken,
        accessToken: grant.accessToken,
        expiresAt: new Date(Date.now() + grant.expiresIn * 1000).toISOString(),
      });
    }
    const response = await admin(api.url).post('/admin/connections/import', { connections });
    expect(response.body.results.map((result: { status: string }) => result.status)).toEqual(
      keys.map(() => 'active'),
    );
  }

  /** Moves connections' planned refresh to `seconds` from now, as time passing would. */
  async function dueIn(keys: string[], seconds: number): Promise<void> {
    await query(
      db.url,
      `UPDATE connections SET next_refresh_at = now() + make_interval(secs => $2) WHERE key = ANY($1)`,
      [keys, seconds],
    );
  }

  beforeAll(async () => {
    db = await createTestDatabase('scale');
    redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    sandboxUrl = await sandbox.listen(0);
    // An api replica alone first: nothing sweeps, so whatever is queued was queued as planned.
    api = await startBroker({ ...env(), BROKER_ROLE: 'api' });
    await createBloomerangIntegration(api.url, sandboxUrl, 'always-crm');
    await createBloomerangIntegration(api.url, sandboxUrl, 'read-crm');
    const patched = await admin(api.url).patch('/admin/integrations/read-crm', { refreshAhead: 'when_read' });
    expect(patched.status).toBe(200);
    expect(patched.body.refreshAhead).toBe('when_read');
    apiKey = await createApiKey(api.url);
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.stop();
    await sandbox?.close();
    redis?.disconnect();
    await db?.drop();
  });

  it('queues a refresh planned inside the horizon at once, and nothing planned beyond it', async () => {
    // Tokens of 12 s are planned for a refresh after 9 s: inside the 12 s horizon.
    sandbox.configure({ accessTokenTtlSeconds: 12 });
    await connectBloomerang(api.url, 'always-crm', 'short-lived');
    const id = await idOf('short-lived');
    const version = async () =>
      (
        await query<{ v: number }>(db.url, 'SELECT token_version AS v FROM connections WHERE id = $1', [id])
      )[0].v;
    const first = await version();
    // Queued as the token was written, not by a sweep (none runs yet).
    await eventually(async () => ((await queuedJobs()).get(id)?.includes(first) ? true : undefined), 1_000);
    const refreshed = await admin(api.url).post('/admin/connections/short-lived/refresh');
    expect(refreshed.status).toBe(200);
    const second = await version();
    expect(second).toBeGreaterThan(first);
    await eventually(async () => ((await queuedJobs()).get(id)?.includes(second) ? true : undefined), 1_000);
    sandbox.configure({ accessTokenTtlSeconds: 600 });
    expect((await admin(api.url).delete('/admin/connections/short-lived')).status).toBe(204);
    // Its superseded first job would find nothing to do; the rest of this suite counts jobs.
    await redis.flushdb();

    // Imported with tokens valid for days: planned days ahead, so Redis holds nothing of them.
    const idle = Array.from({ length: 50 }, (_, i) => ({
      key: `idle-${String(i).padStart(3, '0')}`,
      integration: i % 2 ? 'always-crm' : 'read-crm',
      refreshToken: `imported-refresh-token-${i}`,
      accessToken: `imported-access-token-${i}`,
      expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    }));
    const imported = await admin(api.url).post('/admin/connections/import', { connections: idle });
    expect(imported.status).toBe(200);
    expect(new Set(imported.body.results.map((result: { status: string }) => result.status))).toEqual(
      new Set(['active']),
    );
    expect((await queuedJobs()).size).toBe(0);
    await importGranted('always-crm', ['due-1', 'due-2', 'due-3']);
    await importGranted('read-crm', ['hot', 'cold', 'lapsing', 'unstated']);
    expect((await queuedJobs()).size).toBe(0);
  });

  it('sweeps in what comes due, only that, rebuilds it after FLUSHDB and refreshes it on time', async () => {
    worker = await startBroker({ ...env(), BROKER_ROLE: 'worker' });
    const due = ['due-1', 'due-2', 'due-3'];
    const ids = await Promise.all(due.map(idOf));
    await dueIn(due, HORIZON_SECONDS + 8);
    const dueAt = Date.now() + (HORIZON_SECONDS + 8) * 1000;
    const before = refreshCalls();
    const queued = await eventually(async () => {
      const jobs = await queuedJobs();
      return jobs.size > 0 ? jobs : undefined;
    }, 12_000);
    // Only the three that came within reach; none of the 50 idle or the when_read ones.
    expect([...queued.keys()].sort()).toEqual([...ids].sort());

    await redis.flushdb();
    expect(await redis.keys('*')).toEqual([]);
    const rebuilt = await eventually(async () => {
      const jobs = await queuedJobs();
      return jobs.size === 3 ? jobs : undefined;
    }, 12_000);
    expect([...rebuilt.keys()].sort()).toEqual([...ids].sort());
    expect(Date.now()).toBeLessThan(dueAt);

    const refreshed = await eventually(
      async () => {
        const rows = await Promise.all(due.map(connection));
        return rows.every((row) => row.lastRefreshedAt) ? rows : undefined;
      },
      (HORIZON_SECONDS + 10) * 1000,
    );
    for (const row of refreshed) {
      const late = Date.parse(row.lastRefreshedAt) - dueAt;
      expect(late).toBeGreaterThan(-2_000); // plans carry up to ~1 s of rounding between clocks
      expect(late).toBeLessThan(3_000);
    }
    expect(refreshCalls() - before).toBe(3);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
  });

  it('when_read: refreshes ahead what was read, keeps a lapsing refresh token alive, leaves the cold one to its next read', async () => {
    expect((await getToken(api.url, apiKey, 'hot')).status).toBe(200);
    // The api replica flushes reads every 7.5 s (an eighth of the 60 s window).
    await eventually(async () => {
      const [row] = await query<{ at: Date | null }>(
        db.url,
        `SELECT last_read_at AS at FROM connections WHERE key = 'hot'`,
      );
      return row.at ?? undefined;
    }, 12_000);
    // `lapsing`'s refresh token would expire in 30 s; `cold`'s in 90 days.
    await query(
      db.url,
      `UPDATE connections SET refresh_token_expires_at = now() + interval '30 seconds',
              last_refreshed_at = now() - interval '30 seconds' WHERE key = 'lapsing'`,
    );
    await query(
      db.url,
      `UPDATE connections SET refresh_token_expires_at = now() + interval '90 days' WHERE key = 'cold'`,
    );
    // `unstated` was imported without refreshTokenExpiresAt, and Bloomerang's refresh tokens lapse
    // (90 days): left cold, it is refreshed once at its plan, which records when its token lapses.
    const before = refreshCalls();
    await dueIn(['hot', 'cold', 'lapsing', 'unstated'], HORIZON_SECONDS + 2);
    const [hot, lapsing, unstated] = await eventually(
      async () => {
        const rows = await Promise.all(['hot', 'lapsing', 'unstated'].map(connection));
        return rows.every((row) => row.lastRefreshedAt) ? rows : undefined;
      },
      (HORIZON_SECONDS + 10) * 1000,
    );
    expect(hot.status).toBe('active');
    expect(lapsing.status).toBe('active');
    expect(unstated.status).toBe('active');
    const [{ lapsesAt }] = await query<{ lapsesAt: Date | null }>(
      db.url,
      `SELECT refresh_token_expires_at AS "lapsesAt" FROM connections WHERE key = 'unstated'`,
    );
    expect(lapsesAt?.getTime()).toBeGreaterThan(Date.now() + 89 * 86_400_000);
    const cold = await connection('cold');
    expect(cold.lastRefreshedAt).toBeNull();
    // Moved to its refresh token's keep-alive: a day before it would lapse.
    expect(Date.parse(cold.nextRefreshAt)).toBeGreaterThan(Date.now() + 88 * 86_400_000);
    expect(refreshCalls() - before).toBe(3);

    // Read once its token has run out: refreshed on demand, through the same single flight.
    await expireStoredToken(db.url, 'cold');
    const answers = await Promise.all(Array.from({ length: 5 }, () => getToken(api.url, apiKey, 'cold')));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(refreshCalls() - before).toBe(4);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
  });

  it('pages connections by key with an `after` cursor, and counts them without a scan', async () => {
    const seen: string[] = [];
    let after = ''; // empty: the first page in key order
    for (;;) {
      const page = await admin(api.url).get(
        `/admin/connections?limit=20&integration=always-crm&after=${after}`,
      );
      expect(page.status).toBe(200);
      if (page.body.length === 0) break;
      seen.push(...page.body.map((row: { key: string }) => row.key));
      after = page.body[page.body.length - 1].key;
    }
    const expected = await query<{ key: string }>(
      db.url,
      `SELECT c.key FROM connections c JOIN integrations i ON i.id = c.integration_id
        WHERE i.key = 'always-crm' ORDER BY c.key`,
    );
    expect(seen).toEqual(expected.map((row) => row.key));
    expect(seen.length).toBe(28);
    const bad = await admin(api.url).get('/admin/connections?after=Not%20A%20Key');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/after/);

    // The gauges come from counts kept by triggers: they match the table.
    const metrics = await (await fetch(`${worker!.url}/metrics`)).text();
    const active = /broker_connections\{integration="always-crm",status="active"\} (\d+)/.exec(metrics);
    expect(Number(active?.[1])).toBe(28);
    const [counted] = await query<{ n: string }>(db.url, `SELECT sum(count) AS n FROM connection_counts`);
    const [actual] = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM connections');
    expect(counted.n).toBe(actual.n);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(200);
  }
}
