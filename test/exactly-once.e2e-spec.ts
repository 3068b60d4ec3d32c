import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, expireStoredToken, query } from './support/test-database';
import { admin, getToken, request } from './support/http';
import { connectBloomerang, createApiKey, createBloomerangIntegration } from './support/provider-flows';
import { TcpProxy } from './support/tcp-proxy';

const REDIS_DB = 12;
const LEASE_SECONDS = 5;

/**
 * The two reproductions of issue 23, against the sandbox's Bloomerang, whose refresh tokens are
 * single use (a reuse revokes every token of the account): a rotating answer the broker rejected,
 * and a lease that ran out while its refresh waited for the integration's slot. Each sent a
 * refresh token twice before the fix.
 */
describe('exactly once: a single-use refresh token is never sent twice', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let apiKey: string;

  const reuses = () => sandbox.stats().refreshTokenReuses;
  const refreshCalls = () => sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const connection = async (key: string) => (await admin(a.url).get(`/admin/connections/${key}`)).body;

  beforeAll(async () => {
    db = await createTestDatabase('exactly_once');
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    sandboxUrl = await sandbox.listen(0);
    const portA = await freePort();
    const common = {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${portA}`,
      BROKER_REFRESH_LEASE_SECONDS: String(LEASE_SECONDS),
      BROKER_INTEGRATION_CONCURRENCY: '1',
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

  describe('a 200 answer that rotated the refresh token and is otherwise invalid', () => {
    it.each([
      ['zeroExpiresIn', 'expires_in 0'],
      ['overflowingExpiresIn', 'expires_in "1e999"'],
      ['arrayScope', 'scope as an array'],
      ['nonBearerTokenType', 'token_type mac'],
    ] as const)('keeps the new refresh token of an answer with %s (%s)', async (fault, _spoiled) => {
      const key = `rotated-${fault.toLowerCase()}`;
      await connectBloomerang(a.url, 'bloomerang', key);
      const reusesBefore = reuses();
      sandbox.configure({ fault, faultProvider: 'bloomerang', faultCount: 1 });
      // The spoiled answer: whatever the broker makes of it, the refresh token it carried is the live one.
      await getToken(a.url, apiKey, key, 86_400);
      expect(sandbox.stats().refreshTokenUses).toBeGreaterThan(0);
      // The next refresh, on either replica, presents the rotated token: the provider sees no reuse.
      for (const broker of [a, b]) {
        const next = await admin(broker.url).post(`/admin/connections/${key}/refresh`);
        expect(next.status).toBe(200);
        expect(next.body.status).toBe('active');
      }
      expect(reuses()).toBe(reusesBefore);
      const read = await getToken(b.url, apiKey, key);
      expect(read.status).toBe(200);
      const me = await fetch(`${sandboxUrl}/bloomerang/v2/me`, {
        headers: { authorization: `Bearer ${read.body.accessToken}` },
      });
      expect(me.status).toBe(200);
    });
  });

  it('does not send a refresh token whose lease ran out while its refresh waited for the slot', async () => {
    const keys = ['queued-1', 'queued-2', 'queued-3', 'queued-4'];
    for (const key of keys) await connectBloomerang(a.url, 'bloomerang', key);
    const reusesBefore = reuses();
    const callsBefore = refreshCalls();
    sandbox.configure({ tokenLatencyMs: 3_000 });
    // Four forced refreshes on A, one slot: each waits for the one before it (3 s each).
    const onA = keys.map((key) => admin(a.url).post(`/admin/connections/${key}/refresh`));
    // The third call has left A: by then the fourth connection's lease, taken when it queued, has
    // run out (5 s) while its refresh still waits for the slot.
    await waitFor(async () => (refreshCalls() - callsBefore >= 3 ? true : undefined), 60_000);
    await waitFor(async () => {
      const [row] = await query<{ expired: boolean }>(
        db.url,
        `SELECT lease_expires_at IS NULL OR lease_expires_at < now() AS expired FROM connections WHERE key = 'queued-4'`,
      );
      return row.expired ? true : undefined;
    }, 30_000);
    // B is asked to refresh the fourth connection now.
    const onB = admin(b.url).post('/admin/connections/queued-4/refresh');
    const answers = await Promise.all([...onA, onB]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(reuses()).toBe(reusesBefore);
    sandbox.configure({ tokenLatencyMs: 0 });
    for (const key of keys) {
      expect((await connection(key)).status).toBe('active');
      expect((await getToken(b.url, apiKey, key)).status).toBe(200);
    }
  });

  it("honours the provider's Retry-After per connection: readers get the valid token, or 503 with Retry-After", async () => {
    await connectBloomerang(a.url, 'bloomerang', 'backoff');
    const held = await getToken(a.url, apiKey, 'backoff');
    const reusesBefore = reuses();
    const callsBefore = refreshCalls();
    sandbox.configure({ fault: 'rateLimited', faultProvider: 'bloomerang', faultCount: 1 });
    // Asked for more validity than it has: one attempt, refused with Retry-After; the token is still valid.
    const limited = await getToken(a.url, apiKey, 'backoff', 86_400);
    expect(limited.status).toBe(200);
    expect(limited.body.accessToken).toBe(held.body.accessToken);
    expect(refreshCalls() - callsBefore).toBe(1);
    // During the backoff no reader, on either replica, makes another upstream call.
    for (const broker of [a, b]) {
      const again = await getToken(broker.url, apiKey, 'backoff', 86_400);
      expect(again.status).toBe(200);
      expect(again.body.accessToken).toBe(held.body.accessToken);
    }
    expect(refreshCalls() - callsBefore).toBe(1);

    // With no valid token left: 503 provider_unavailable with Retry-After, still no upstream call.
    sandbox.configure({ fault: 'rateLimited', faultProvider: 'bloomerang', faultCount: 1 });
    await expireStoredToken(db.url, 'backoff');
    const refused = await getToken(b.url, apiKey, 'backoff');
    expect(refused.status).toBe(503);
    expect(refused.body.error).toBe('provider_unavailable');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const calls = refreshCalls();
    const waiting = await getToken(a.url, apiKey, 'backoff');
    expect(waiting.status).toBe(503);
    expect(waiting.body.error).toBe('provider_unavailable');
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refreshCalls()).toBe(calls);
    // Once it has passed, the next read refreshes.
    const recovered = await waitFor(async () => {
      const answer = await getToken(a.url, apiKey, 'backoff');
      return answer.status === 200 ? answer : undefined;
    }, 30_000);
    expect(recovered.body.accessToken).not.toBe(held.body.accessToken);
    expect(reuses()).toBe(reusesBefore);
  });

  describe('a refresh whose outcome is unknown, at a provider that revokes on reuse', () => {
    it('is not sent again: needs_reauthorization naming refresh_outcome_unknown, the held token served', async () => {
      await connectBloomerang(a.url, 'bloomerang', 'unknown-5xx');
      const held = await getToken(a.url, apiKey, 'unknown-5xx');
      const reusesBefore = reuses();
      // A 5xx may come after the grant was processed: the broker cannot tell.
      sandbox.configure({ fault: 'html500', faultProvider: 'bloomerang', faultCount: 1 });
      const callsBefore = refreshCalls();
      const read = await getToken(a.url, apiKey, 'unknown-5xx', 86_400);
      expect(read.status).toBe(200);
      expect(read.body.accessToken).toBe(held.body.accessToken);
      const lost = await connection('unknown-5xx');
      expect(lost.status).toBe('needs_reauthorization');
      expect(lost.lastError).toMatch(/^refresh_outcome_unknown/);
      // Every replica keeps serving the held token and sends nothing more; an admin's refresh is refused.
      for (const broker of [a, b]) {
        const again = await getToken(broker.url, apiKey, 'unknown-5xx', 86_400);
        expect(again.status).toBe(200);
        expect(again.body.accessToken).toBe(held.body.accessToken);
      }
      expect((await admin(b.url).post('/admin/connections/unknown-5xx/refresh')).status).toBe(409);
      expect(refreshCalls() - callsBefore).toBe(1);
      expect(reuses()).toBe(reusesBefore);
      expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(
        /^broker_refresh_outcome_unknown_total [1-9]/m,
      );
    });

    it('is retried when the request provably never left (connection refused)', async () => {
      const proxy = new TcpProxy(Number(new URL(sandboxUrl).port));
      const proxyUrl = `http://127.0.0.1:${await proxy.start()}`;
      try {
        await createBloomerangIntegration(a.url, proxyUrl, 'bloomerang-proxied');
        await connectBloomerang(a.url, 'bloomerang-proxied', 'never-sent');
        const held = await getToken(a.url, apiKey, 'never-sent');
        const reusesBefore = reuses();
        await proxy.cut();
        const refused = await getToken(a.url, apiKey, 'never-sent', 86_400);
        expect(refused.status).toBe(200);
        expect(refused.body.accessToken).toBe(held.body.accessToken);
        expect((await connection('never-sent')).status).toBe('active');
        await proxy.restore();
        const refreshed = await getToken(b.url, apiKey, 'never-sent', 86_400);
        expect(refreshed.status).toBe(200);
        expect(refreshed.body.accessToken).not.toBe(held.body.accessToken);
        expect((await connection('never-sent')).status).toBe('active');
        expect(reuses()).toBe(reusesBefore);
      } finally {
        await proxy.cut();
      }
    });
  });
});

describe('readiness: a replica that can serve token reads stays in its Service', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let broker: BrokerProcess;
  let postgres: TcpProxy;
  let redis: TcpProxy;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase('readiness');
    postgres = new TcpProxy(5432);
    redis = new TcpProxy(6379);
    const [postgresPort, redisPort] = [await postgres.start(), await redis.start()];
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    const sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url.replace(':5432/', `:${postgresPort}/`),
      REDIS_URL: `redis://127.0.0.1:${redisPort}/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    await connectBloomerang(broker.url, 'bloomerang', 'held');
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await postgres?.restore().catch(() => undefined);
    await redis?.restore().catch(() => undefined);
    await broker?.stop();
    await sandbox?.close();
    await postgres?.cut();
    await redis?.cut();
    await db?.drop();
  });

  const ready = () => request(broker.url, 'GET', '/health/ready', { token: null });

  it('stays ready, degraded, through a Redis outage and then a Postgres outage, answering token reads', async () => {
    const first = await ready();
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('ok');
    const held = await getToken(broker.url, apiKey, 'held');
    expect(held.status).toBe(200);

    await redis.cut();
    // Wait for the check to notice, whatever it then says.
    await waitFor(async () => ((await ready()).body.status !== 'ok' ? true : undefined));
    const withoutRedis = await ready();
    expect(withoutRedis.status).toBe(200);
    expect(withoutRedis.body.status).toBe('degraded');
    expect(withoutRedis.body.degraded).toEqual(['redis']);
    expect(withoutRedis.body.error.redis.status).toBe('down');
    expect((await getToken(broker.url, apiKey, 'held')).body.accessToken).toBe(held.body.accessToken);

    await postgres.cut();
    const withoutBoth = await waitFor(async () => {
      const answer = await ready();
      return answer.body.degraded?.length === 2 ? answer : undefined;
    });
    expect(withoutBoth.status).toBe(200);
    expect(withoutBoth.body).toMatchObject({ status: 'degraded', degraded: ['postgres', 'redis'] });
    const read = await getToken(broker.url, apiKey, 'held');
    expect(read.status).toBe(200);
    expect(read.body.accessToken).toBe(held.body.accessToken);
    expect((await getToken(broker.url, apiKey, 'held', 86_400)).status).toBe(200);

    await postgres.restore();
    await redis.restore();
    await waitFor(async () => ((await ready()).body.status === 'ok' ? true : undefined), 30_000);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
