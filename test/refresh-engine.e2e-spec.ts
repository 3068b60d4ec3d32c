import { Redis } from 'ioredis';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, expireStoredToken, storedRefreshToken } from './support/test-database';
import { admin, getToken, request } from './support/http';
import {
  authorizeAtSandbox,
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
} from './support/provider-flows';

const REDIS_DB = 3;
const LEASE_SECONDS = 5;

describe('refresh engine: two brokers, one Postgres, one Redis, the sandbox', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let apiKey: string;

  const refreshCalls = () => sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const connection = async (key: string) => (await admin(b.url).get(`/admin/connections/${key}`)).body;

  beforeAll(async () => {
    db = await createTestDatabase('engine');
    await redisFlush();
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    sandboxUrl = await sandbox.listen(0);
    const portA = await freePort();
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${portA}`,
      BROKER_REFRESH_LEASE_SECONDS: String(LEASE_SECONDS),
      BROKER_RECONCILE_INTERVAL_SECONDS: '5',
    };
    a = await startBroker({ ...common, PORT: String(portA) });
    b = await startBroker(common);
    await createBloomerangIntegration(a.url, sandboxUrl, 'bloomerang');
    apiKey = await createApiKey(a.url);
  });

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  beforeEach(() => sandbox.configure({ tokenLatencyMs: 0, fault: 'none', accessTokenTtlSeconds: 600 }));

  it('answers a herd of callers on an expired token with exactly one upstream refresh', async () => {
    await connectBloomerang(a.url, 'bloomerang', 'herd');
    // Warm both replicas' caches, then expire the token the way time would: in Postgres, announced.
    expect((await getToken(a.url, apiKey, 'herd')).status).toBe(200);
    expect((await getToken(b.url, apiKey, 'herd')).status).toBe(200);
    await expireStoredToken(db.url, 'herd');
    sandbox.configure({ tokenLatencyMs: 300 });
    const before = refreshCalls();
    const callers = 400;
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: callers }, (_, i) => getToken(i % 2 ? a.url : b.url, apiKey, 'herd')),
    );
    const elapsed = Date.now() - started;
    const upstreamCalls = refreshCalls() - before;
    console.log(
      `herd: ${callers} callers over 2 brokers → ${upstreamCalls} upstream refresh call(s) in ${elapsed} ms`,
    );
    expect(answers.map((r) => r.status)).toEqual(Array(callers).fill(200));
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    expect(upstreamCalls).toBe(1);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
    const me = await fetch(`${sandboxUrl}/bloomerang/v2/me`, {
      headers: { authorization: `Bearer ${answers[0].body.accessToken}` },
    });
    expect(me.status).toBe(200);
  });

  it('makes one upstream call for concurrent admin refreshes on both brokers', async () => {
    sandbox.configure({ tokenLatencyMs: 300 });
    const before = refreshCalls();
    const results = await Promise.all([
      ...Array.from({ length: 4 }, () => admin(a.url).post('/admin/connections/herd/refresh')),
      ...Array.from({ length: 4 }, () => admin(b.url).post('/admin/connections/herd/refresh')),
    ]);
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(200));
    expect(refreshCalls() - before).toBe(1);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
  });

  it('refreshes once, not in a loop, when minValidity exceeds the token lifetime', async () => {
    sandbox.configure({ accessTokenTtlSeconds: 30 });
    await connectBloomerang(a.url, 'bloomerang', 'short');
    for (const broker of [a, b]) {
      const before = refreshCalls();
      const started = Date.now();
      const response = await getToken(broker.url, apiKey, 'short', 3600);
      expect(response.status).toBe(200);
      expect(response.body.expiresIn).toBeLessThanOrEqual(30);
      expect(refreshCalls() - before).toBe(1);
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('serves client-credentials tokens fetched once, on every replica', async () => {
    expect((await createBloomIntegration(a.url, sandboxUrl, 'bloom')).status).toBe(201);
    expect(
      (await admin(a.url).post('/admin/connections', { key: 'bloom-cc', integration: 'bloom' })).body.status,
    ).toBe('active');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => getToken(i % 2 ? a.url : b.url, apiKey, 'bloom-cc')),
    );
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(new Set(answers.map((r) => r.body.accessToken)).size).toBe(1);
    expect(sandbox.stats().tokenRequests.byProvider.bloom.client_credentials).toBe(1);
  });

  it('stops serving a deleted connection on the other replica at once', async () => {
    await connectBloomerang(a.url, 'bloomerang', 'doomed');
    expect((await getToken(b.url, apiKey, 'doomed')).status).toBe(200); // cached on b now
    expect((await admin(a.url).delete('/admin/connections/doomed')).status).toBe(204);
    const after = await getToken(b.url, apiKey, 'doomed');
    expect(after.status).toBe(404);
    expect(after.body).toMatchObject({ statusCode: 404, error: 'not_found' });
  });

  it('answers 409 needs_reauthorization on every replica once the refresh token is dead, until re-authorized', async () => {
    await connectBloomerang(a.url, 'bloomerang', 'revoked');
    expect((await getToken(b.url, apiKey, 'revoked')).status).toBe(200);
    // Someone else uses the stored refresh token: the broker's copy is now spent.
    const refreshToken = await storedRefreshToken(db.url, 'revoked');
    const stolen = await fetch(`${sandboxUrl}/bloomerang/v2/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SANDBOX_CLIENTS.bloomerang.clientId}:${SANDBOX_CLIENTS.bloomerang.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    });
    expect(stolen.status).toBe(200);
    const reusesBefore = sandbox.stats().refreshTokenReuses;

    const forced = await getToken(a.url, apiKey, 'revoked', 86_400);
    expect(forced.status).toBe(409);
    expect(forced.body).toEqual({
      statusCode: 409,
      error: 'needs_reauthorization',
      message: expect.any(String),
    });
    expect((await connection('revoked')).status).toBe('needs_reauthorization');
    // The broker's one attempt with the spent token is all the provider saw: no retry loop.
    expect(sandbox.stats().refreshTokenReuses).toBe(reusesBefore + 1);
    for (const broker of [a, b]) expect((await getToken(broker.url, apiKey, 'revoked')).status).toBe(409);

    const again = await admin(b.url).post('/admin/connections/revoked/authorize');
    expect(again.status).toBe(200);
    const callback = await authorizeAtSandbox(again.body.authorizationUrl, a.url);
    expect((await request(a.url, 'GET', callback.slice(a.url.length), { token: null })).status).toBe(200);
    expect((await connection('revoked')).status).toBe('active');
    for (const broker of [a, b]) expect((await getToken(broker.url, apiKey, 'revoked')).status).toBe(200);
  });

  it('keeps refreshing on time after Redis is flushed, with nobody reading the token', async () => {
    sandbox.configure({ accessTokenTtlSeconds: 12 });
    const reusesBefore = sandbox.stats().refreshTokenReuses;
    await connectBloomerang(a.url, 'bloomerang', 'flushed');
    const first = await connection('flushed');
    // The refresh job exists in Redis before the flush, so only a rebuilt schedule can refresh it.
    await waitFor(async () => ((await redisKeys('*refresh.*')).length > 0 ? true : undefined), 5_000);
    await redisFlush();
    expect(await redisKeys('*')).toEqual([]);
    const firstExpiry = Date.parse(first.expiresAt);
    const refreshed = await waitFor(async () => {
      const now = await connection('flushed');
      return Date.parse(now.expiresAt) > firstExpiry ? now : undefined;
    }, 20_000);
    expect(Date.parse(refreshed.lastRefreshedAt)).toBeLessThan(firstExpiry);
    expect(refreshed.status).toBe('active');
    expect(sandbox.stats().refreshTokenReuses).toBe(reusesBefore);
  });

  it('does not send again a single-use refresh token whose holder was killed mid-refresh, and serves the token it holds', async () => {
    await connectBloomerang(a.url, 'bloomerang', 'killed');
    const held = await getToken(b.url, apiKey, 'killed');
    expect(held.status).toBe(200);
    const reusesBefore = sandbox.stats().refreshTokenReuses;
    const refreshTokenSent = await storedRefreshToken(db.url, 'killed');
    sandbox.configure({ fault: 'hang', faultProvider: 'bloomerang' });
    const pending = getToken(a.url, apiKey, 'killed', 86_400).catch(() => undefined);
    await waitFor(
      async () => (sandbox.stats().inFlightTokenRequests.bloomerang > 0 ? true : undefined),
      5_000,
    );
    await a.stop('SIGKILL');
    await pending;
    sandbox.configure({ fault: 'none' });
    // The request left and its answer is lost: Bloomerang may have consumed the refresh token, and
    // revokes the account on a reuse. Once the holder's lease is over, the next holder marks the
    // connection instead of sending the token again; meanwhile and after, reads get the token held.
    const marked = await waitFor(async () => {
      const answer = await getToken(b.url, apiKey, 'killed', 86_400);
      expect(answer.status).toBe(200);
      expect(answer.body.accessToken).toBe(held.body.accessToken);
      const now = await connection('killed');
      return now.status === 'needs_reauthorization' ? now : undefined;
    }, 60_000);
    expect(marked.lastError).toMatch(/refresh_outcome_unknown/);
    // Nothing was sent again: the provider saw no reuse, and the row still holds the token the killed holder sent.
    expect(sandbox.stats().refreshTokenReuses).toBe(reusesBefore);
    expect(await storedRefreshToken(db.url, 'killed')).toBe(refreshTokenSent);
    expect((await getToken(b.url, apiKey, 'killed')).body.accessToken).toBe(held.body.accessToken);
    const metrics = await (await fetch(`${b.url}/metrics`)).text();
    expect(metrics).toMatch(/^broker_refresh_outcome_unknown_total [1-9]/m);
  });
});

async function redisFlush(): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  redis.disconnect();
}

async function redisKeys(pattern: string): Promise<string[]> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
  await redis.connect();
  try {
    return await redis.keys(pattern);
  } finally {
    redis.disconnect();
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
