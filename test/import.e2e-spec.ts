import { readFileSync } from 'node:fs';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { basicAuthorization } from '../apps/sandbox/src/testing';
import { BrokerProcess, startBroker } from './support/broker-process';
import { createTestDatabase, query, storedRefreshToken } from './support/test-database';
import { admin, getToken } from './support/http';
import {
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
  IssuedGrant,
  issueBloomerangGrant,
} from './support/provider-flows';

const REDIS_DB = 9;
const { clientId, clientSecret } = SANDBOX_CLIENTS.bloomerang;

/**
 * Connections authorized elsewhere, imported with refresh tokens the sandbox issued through its
 * real code flow (so it honours them once and revokes their chain on reuse), then read through
 * the broker: one upstream refresh each, dead tokens found at import, repeated imports inert.
 */
describe('import of existing connections', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let apiKey: string;
  const imported: string[] = [];

  const refreshCalls = () => sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const connectionCount = async () =>
    Number((await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM connections'))[0].n);

  /** Accounts authorized by another system, five at a time (so the sandbox's peak also bounds the broker's). */
  async function issueGrants(count: number): Promise<IssuedGrant[]> {
    return mapLimited(Array.from({ length: count }), 5, async () => {
      const grant = await issueBloomerangGrant(sandboxUrl);
      imported.push(grant.refreshToken, grant.accessToken);
      return grant;
    });
  }

  beforeAll(async () => {
    db = await createTestDatabase('import');
    const redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
    sandbox = createSandbox({ accessTokenTtlSeconds: 3600 });
    sandboxUrl = await sandbox.listen(0);
    broker = await startBroker({ DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}` });
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    expect((await createBloomIntegration(broker.url, sandboxUrl, 'bloom')).status).toBe(201);
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  it('imports one connection active, with one refresh at import and none at the first read', async () => {
    const [grant] = await issueGrants(1);
    const before = refreshCalls();
    const created = await admin(broker.url).post('/admin/connections', {
      key: 'one',
      integration: 'bloomerang',
      refreshToken: grant.refreshToken,
      scope: grant.scope,
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ key: 'one', integration: 'bloomerang', status: 'active' });
    expect(created.body.lastError).toBeNull();
    expect(new Date(created.body.nextRefreshAt).getTime()).toBeGreaterThan(Date.now());
    expect(created.text).not.toContain(grant.refreshToken);
    expect(refreshCalls() - before).toBe(1);
    // The refresh token rotated: the broker holds the successor, not the one it was given.
    const successor = await storedRefreshToken(db.url, 'one');
    expect(successor).not.toBe(grant.refreshToken);
    imported.push(successor);

    const token = await getToken(broker.url, apiKey, 'one');
    expect(token.status).toBe(200);
    expect(token.body.accessToken).not.toBe(grant.accessToken);
    const me = await fetch(`${sandboxUrl}/bloomerang/v2/me`, {
      headers: { authorization: `Bearer ${token.body.accessToken}` },
    });
    expect(me.status).toBe(200);
    expect(refreshCalls() - before).toBe(1);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
  });

  it('serves an imported access token that is still valid as it is and schedules its refresh', async () => {
    const [grant] = await issueGrants(1);
    const before = refreshCalls();
    const expiresAt = new Date(Date.now() + grant.expiresIn * 1000).toISOString();
    const created = await admin(broker.url).post('/admin/connections', {
      key: 'with-access',
      integration: 'bloomerang',
      refreshToken: grant.refreshToken,
      accessToken: grant.accessToken,
      expiresAt,
      scope: grant.scope,
      refreshTokenExpiresAt: new Date(Date.now() + 80 * 86_400_000).toISOString(),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ status: 'active', scope: grant.scope, expiresAt });
    expect(created.text).not.toContain(grant.refreshToken);
    expect(created.text).not.toContain(grant.accessToken);
    const token = await getToken(broker.url, apiKey, 'with-access');
    expect(token.body.accessToken).toBe(grant.accessToken);
    expect(refreshCalls() - before).toBe(0);
    // Scheduled like any active connection: its next refresh is planned in Postgres; beyond the
    // schedule's horizon (10 minutes), Redis holds no job for it yet.
    const [row] = await query<{ id: string; next: Date }>(
      db.url,
      `SELECT id, next_refresh_at AS next FROM connections WHERE key = 'with-access'`,
    );
    expect(new Date(row.next).getTime()).toBeGreaterThan(Date.now() + 30 * 60_000);
    const queue = new Queue('token-refresh', {
      connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB },
      prefix: 'broker',
    });
    const job = await queue.getJob(`refresh.${row.id}.1`);
    await queue.close();
    expect(job).toBeUndefined();
    // The scheduler's refresh later is the one refresh this connection needs; admin "refresh now" is it.
    expect((await admin(broker.url).post('/admin/connections/with-access/refresh')).status).toBe(200);
    expect(refreshCalls() - before).toBe(1);
    expect((await getToken(broker.url, apiKey, 'with-access')).body.accessToken).not.toBe(grant.accessToken);
  });

  it('reports a dead refresh token at import as needs_reauthorization', async () => {
    const unknown = await admin(broker.url).post('/admin/connections', {
      key: 'dead-unknown',
      integration: 'bloomerang',
      refreshToken: 'never-issued-by-the-sandbox',
    });
    expect(unknown.status).toBe(201);
    expect(unknown.body.status).toBe('needs_reauthorization');
    expect(unknown.body.lastError).toEqual(expect.any(String));
    expect(unknown.text).not.toContain('never-issued-by-the-sandbox');
    imported.push('never-issued-by-the-sandbox');

    // A refresh token another system already used: presenting it again revokes its chain.
    const [grant] = await issueGrants(1);
    const used = await fetch(`${sandboxUrl}/bloomerang/v2/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(clientId, clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken }),
    });
    expect(used.status).toBe(200);
    const reusesBefore = sandbox.stats().refreshTokenReuses;
    const reused = await admin(broker.url).post('/admin/connections/import', {
      connections: [{ key: 'dead-reused', integration: 'bloomerang', refreshToken: grant.refreshToken }],
    });
    expect(reused.status).toBe(200);
    expect(reused.body.results).toEqual([
      { key: 'dead-reused', status: 'needs_reauthorization', error: expect.any(String) },
    ]);
    expect(sandbox.stats().refreshTokenReuses).toBe(reusesBefore + 1);
    expect((await getToken(broker.url, apiKey, 'dead-reused')).status).toBe(409);
    const [row] = await query<{ refresh_token: string | null }>(
      db.url,
      `SELECT refresh_token FROM connections WHERE key = 'dead-reused'`,
    );
    expect(row.refresh_token).toBeNull();
  });

  it('imports 500 in bulk with one refresh each; reads add none; a repeated call changes nothing', async () => {
    const grants = await issueGrants(500);
    const items = grants.map((grant, i) => ({
      key: `bulk-${i}`,
      integration: 'bloomerang',
      refreshToken: grant.refreshToken,
    }));
    const before = refreshCalls();
    const { refreshTokenReuses, revokedChains } = sandbox.stats();
    const started = Date.now();
    const first = await admin(broker.url).post('/admin/connections/import', { connections: items });
    console.log(`import: 500 items, each refreshed once, answered in ${Date.now() - started} ms`);
    expect(first.status).toBe(200);
    expect(first.body.results).toEqual(items.map(({ key }) => ({ key, status: 'active' })));
    expect(refreshCalls() - before).toBe(500);
    expect(sandbox.stats().maxConcurrentTokenRequests.bloomerang).toBeLessThanOrEqual(5);

    const answers = await mapLimited(items, 25, ({ key }) => getToken(broker.url, apiKey, key));
    expect(answers.map((answer) => answer.status)).toEqual(Array(500).fill(200));
    expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(500);
    expect(refreshCalls() - before).toBe(500);
    expect(sandbox.stats()).toMatchObject({ refreshTokenReuses, revokedChains });

    const rows = await connectionCount();
    const againStarted = Date.now();
    const again = await admin(broker.url).post('/admin/connections/import', { connections: items });
    console.log(`import: the same 500 items again, answered in ${Date.now() - againStarted} ms`);
    expect(again.status).toBe(200);
    expect(again.body.results).toEqual(
      items.map(({ key }) => ({
        key,
        status: 'exists',
        error: `connection "${key}" already exists; left as it is`,
      })),
    );
    expect(await connectionCount()).toBe(rows);
    expect(refreshCalls() - before).toBe(500);
    expect(sandbox.stats()).toMatchObject({ refreshTokenReuses, revokedChains });
    const reread = await getToken(broker.url, apiKey, 'bulk-0');
    expect(reread.body.accessToken).toBe(answers[0].body.accessToken);
  });

  it('answers a 1,000-item import (every item refreshed) within the admin timeouts', async () => {
    const grants = await issueGrants(1000);
    const before = refreshCalls();
    const cpuBefore = cpuMs(broker.child.pid!);
    const started = Date.now();
    const answer = await admin(broker.url).post('/admin/connections/import', {
      connections: grants.map((grant, i) => ({
        key: `big-${i}`,
        integration: 'bloomerang',
        refreshToken: grant.refreshToken,
      })),
    });
    const elapsed = Date.now() - started;
    // The broker's own CPU time, a figure that the machine's load does not inflate as it does wall time.
    console.log(
      `import: 1,000 items, each refreshed once, answered in ${elapsed} ms (broker CPU ${cpuMs(broker.child.pid!) - cpuBefore} ms)`,
    );
    expect(answer.status).toBe(200);
    expect(answer.body.results.filter((r: { status: string }) => r.status === 'active')).toHaveLength(1000);
    expect(refreshCalls() - before).toBe(1000);
  });

  it('imports 1,000 items carrying valid access tokens without any refresh, each scheduled', async () => {
    const grants = await issueGrants(1000);
    const before = refreshCalls();
    const started = Date.now();
    const answer = await admin(broker.url).post('/admin/connections/import', {
      connections: grants.map((grant, i) => ({
        key: `fresh-${i}`,
        integration: 'bloomerang',
        refreshToken: grant.refreshToken,
        accessToken: grant.accessToken,
        expiresAt: new Date(Date.now() + grant.expiresIn * 1000).toISOString(),
        scope: grant.scope,
      })),
    });
    console.log(`import: 1,000 items with valid access tokens, answered in ${Date.now() - started} ms`);
    expect(answer.status).toBe(200);
    expect(answer.body.results.filter((r: { status: string }) => r.status === 'active')).toHaveLength(1000);
    expect(refreshCalls() - before).toBe(0);
    const [scheduled] = await query<{ n: string }>(
      db.url,
      `SELECT count(*) AS n FROM connections WHERE key LIKE 'fresh-%' AND next_refresh_at > now() + interval '30 minutes'`,
    );
    expect(Number(scheduled.n)).toBe(1000);
    const token = await getToken(broker.url, apiKey, 'fresh-999');
    expect(token.body.accessToken).toBe(grants[999].accessToken);
    expect(refreshCalls() - before).toBe(0);
  });

  it('checks each item on its own and writes nothing for a wrong one', async () => {
    const [grant] = await issueGrants(1);
    const before = refreshCalls();
    const rows = await connectionCount();
    const answer = await admin(broker.url).post('/admin/connections/import', {
      connections: [
        { key: 'mixed-ok', integration: 'bloomerang', refreshToken: grant.refreshToken },
        { key: 'mixed-cc', integration: 'bloom', refreshToken: 'some-token-value' },
        { key: 'mixed-noexp', integration: 'bloomerang', refreshToken: 'rt', accessToken: 'at' },
        {
          key: 'mixed-date',
          integration: 'bloomerang',
          refreshToken: 'rt',
          accessToken: 'at',
          expiresAt: '01/12/2026',
        },
        { key: 'mixed-none', integration: 'nowhere', refreshToken: 'rt' },
        { key: 'mixed-ok', integration: 'bloomerang', refreshToken: 'rt' },
        { key: 'mixed-missing', integration: 'bloomerang' },
        'not an object',
      ],
    });
    expect(answer.status).toBe(200);
    const results = answer.body.results;
    expect(results.map((r: { key: string; status: string }) => [r.key, r.status])).toEqual([
      ['mixed-ok', 'active'],
      ['mixed-cc', 'invalid'],
      ['mixed-noexp', 'invalid'],
      ['mixed-date', 'invalid'],
      ['mixed-none', 'invalid'],
      ['mixed-ok', 'invalid'],
      ['mixed-missing', 'invalid'],
      [null, 'invalid'],
    ]);
    expect(results[1].error).toMatch(/^refreshToken: integration "bloom" uses client credentials/);
    expect(results[2].error).toBe('expiresAt is required with accessToken');
    expect(results[3].error).toMatch(/^expiresAt must be an ISO 8601 date and time/);
    expect(results[4].error).toBe('integration "nowhere" does not exist');
    expect(results[5].error).toMatch(/appears twice in this import \(first at item 0\)/);
    expect(results[6].error).toBe('refreshToken is required: an import brings an existing connection');
    expect(answer.text).not.toContain('some-token-value');
    expect(await connectionCount()).toBe(rows + 1);
    expect(refreshCalls() - before).toBe(1);
  });

  it('refuses wrong single imports and wrong bulk bodies with a 400 naming the field', async () => {
    const single = async (body: Record<string, unknown>) =>
      admin(broker.url).post('/admin/connections', { key: 'refused', integration: 'bloomerang', ...body });
    const cc = await admin(broker.url).post('/admin/connections', {
      key: 'refused',
      integration: 'bloom',
      refreshToken: 'rt-value-for-bloom',
    });
    expect(cc.status).toBe(400);
    expect(cc.body.message).toMatch(/^refreshToken: integration "bloom" uses client credentials/);
    expect(cc.text).not.toContain('rt-value-for-bloom');
    expect((await single({ refreshToken: 'rt', accessToken: 'at' })).body.message).toBe(
      'expiresAt is required with accessToken',
    );
    const badDate = await single({ refreshToken: 'rt', accessToken: 'at', expiresAt: 'tomorrow' });
    expect(badDate.status).toBe(400);
    expect(badDate.body.message).toMatch(/^expiresAt must be an ISO 8601 date and time/);
    expect((await single({ accessToken: 'at', expiresAt: '2030-01-01T00:00:00Z' })).body.message).toContain(
      'accessToken is accepted only with refreshToken',
    );
    expect((await single({ refreshToken: 'rt', refreshTokenExpiresAt: 3 })).body.message).toMatch(
      /^refreshTokenExpiresAt must be/,
    );
    const exists = await admin(broker.url).post('/admin/connections', {
      key: 'one',
      integration: 'bloomerang',
      refreshToken: 'rt',
    });
    expect(exists.status).toBe(409);
    expect((await admin(broker.url).get('/admin/connections/refused')).status).toBe(404);

    // Only the bulk import takes large bodies, and up to 8 MiB.
    const padded = (bytes: number) => ({ connections: [{ key: 'big', refreshToken: 'x'.repeat(bytes) }] });
    expect((await admin(broker.url).post('/admin/connections', padded(100_000).connections[0])).status).toBe(
      413,
    );
    const nearLimit = await admin(broker.url).post(
      '/admin/connections/import',
      padded(8 * 1024 * 1024 - 200),
    );
    expect(nearLimit.status).toBe(200);
    expect(nearLimit.body.results[0].status).toBe('invalid');
    // Past the limit the broker answers 413 and stops reading, so the client may see the socket close first.
    const tooLarge = await admin(broker.url)
      .post('/admin/connections/import', padded(9 * 1024 * 1024))
      .catch((error: { cause?: { code?: string } }) => error.cause?.code);
    if (typeof tooLarge === 'string') expect(['EPIPE', 'ECONNRESET']).toContain(tooLarge);
    else expect(tooLarge?.body.error).toBe('payload_too_large');

    for (const body of [
      {},
      { connections: [] },
      { connections: 'x' },
      { connections: Array(1001).fill({ key: 'x', integration: 'bloomerang', refreshToken: 'rt' }) },
      { connections: [], extra: 1 },
      [],
    ]) {
      const answer = await admin(broker.url).post('/admin/connections/import', body);
      expect(answer.status).toBe(400);
      expect(answer.body.error).toBe('bad_request');
    }
  });

  it('audits each import call once, with counts and no token values', async () => {
    const audit = await admin(broker.url).get('/admin/audit?action=connection.import&limit=100');
    expect(audit.status).toBe(200);
    const bulk = audit.body.filter((event: { targetKey: string | null }) => event.targetKey === null);
    // dead-reused, 500, the repeat, 1,000 twice, mixed, padded: seven bulk calls (refused bodies never reach the service).
    expect(bulk).toHaveLength(7);
    expect(bulk.map((event: { details: { count: number } }) => event.details.count).sort()).toEqual(
      [1, 1, 1000, 1000, 500, 500, 8].sort(),
    );
    expect(bulk.find((e: { details: { exists: number } }) => e.details.exists === 500)).toBeDefined();
    const singles = audit.body.filter((event: { targetKey: string | null }) => event.targetKey !== null);
    expect(singles.map((event: { targetKey: string }) => event.targetKey).sort()).toEqual([
      'dead-unknown',
      'one',
      'with-access',
    ]);
    const text = audit.text + broker.output();
    expect(imported.filter((secret) => text.includes(secret))).toEqual([]);
  });
});

/** User plus system CPU time a Linux process has used so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function mapLimited<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
