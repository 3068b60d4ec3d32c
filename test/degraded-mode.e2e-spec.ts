import { Keyring } from '@broker/crypto';
import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, ENCRYPTION_KEYS, freePort, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, query } from './support/test-database';
import { getToken, request } from './support/http';
import { connectBloomerang, createApiKey, createBloomerangIntegration } from './support/provider-flows';
import { TcpProxy } from './support/tcp-proxy';

describe('degraded mode: Postgres unreachable for one broker', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let proxy: TcpProxy;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase('degraded');
    proxy = new TcpProxy(5432);
    const proxyPort = await proxy.start();
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url.replace(':5432/', `:${proxyPort}/`),
      REDIS_URL: 'redis://127.0.0.1:6379/7',
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    await connectBloomerang(broker.url, 'bloomerang', 'account');
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await broker?.stop();
    await sandbox?.close();
    await proxy?.cut();
    await db?.drop();
  });

  it('keeps serving a valid cached token while Postgres is away, and never a 500', async () => {
    const cached = await getToken(broker.url, apiKey, 'account');
    expect(cached.status).toBe(200);
    await proxy.cut();
    try {
      const again = await getToken(broker.url, apiKey, 'account');
      expect(again.status).toBe(200);
      expect(again.body.accessToken).toBe(cached.body.accessToken);
      // Asking for more validity than the token has: the still-valid token is the best answer left.
      const demanding = await getToken(broker.url, apiKey, 'account', 86_400);
      expect(demanding.status).toBe(200);
      expect(demanding.body.accessToken).toBe(cached.body.accessToken);
      const unknown = await getToken(broker.url, apiKey, 'never-cached');
      expect(unknown.status).toBe(503);
      expect(unknown.body).toMatchObject({ statusCode: 503, error: 'service_unavailable' });
      // It still serves token reads: it stays in its Service, naming what is missing.
      const ready = await request(broker.url, 'GET', '/health/ready', { token: null });
      expect(ready.status).toBe(200);
      expect(ready.body).toMatchObject({ status: 'degraded', degraded: ['postgres'] });
      expect((await request(broker.url, 'GET', '/health/live', { token: null })).status).toBe(200);
    } finally {
      await proxy.restore();
    }
  });

  it('keeps a provider answer whose write failed, serves it, and writes it when Postgres is back', async () => {
    await waitFor(async () =>
      (await request(broker.url, 'GET', '/health/ready', { token: null })).status === 200 ? true : undefined,
    );
    const [before] = await query<{ token_version: number }>(
      db.url,
      "SELECT token_version FROM connections WHERE key = 'account'",
    );
    const refreshesBefore = sandbox.stats().refreshTokenUses;
    sandbox.configure({ tokenLatencyMs: 1_500 });
    const pending = getToken(broker.url, apiKey, 'account', 86_400);
    // Cut Postgres while the provider is answering: the lease is taken, the write will fail.
    await waitFor(async () => (sandbox.stats().inFlightTokenRequests.bloomerang > 0 ? true : undefined));
    await proxy.cut();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(sandbox.stats().refreshTokenUses).toBe(refreshesBefore + 1);
    sandbox.configure({ tokenLatencyMs: 0 });

    await proxy.restore();
    const [stored] = await waitFor(async () => {
      const rows = await query<{ id: string; token_version: number; access_token: string }>(
        db.url,
        "SELECT id, token_version, access_token FROM connections WHERE key = 'account'",
      );
      return rows[0].token_version > before.token_version ? rows : undefined;
    });
    const keyring = Keyring.parse(ENCRYPTION_KEYS);
    expect(
      keyring.decrypt(stored.access_token, {
        table: 'connections',
        column: 'access_token',
        rowId: stored.id,
      }),
    ).toBe(answer.body.accessToken);
    // The kept refresh token is the one the next refresh uses: no reuse, no lost connection.
    await waitFor(async () =>
      (await request(broker.url, 'GET', '/health/ready', { token: null })).status === 200 ? true : undefined,
    );
    const next = await getToken(broker.url, apiKey, 'account', 86_400);
    expect(next.status).toBe(200);
    expect(next.body.accessToken).not.toBe(answer.body.accessToken);
    expect(sandbox.stats().refreshTokenReuses).toBe(0);
  });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(100);
  }
}
