import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { generateKeyPair } from 'jose';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { verifyWebhook } from '../apps/broker/src/events/webhook-signature';
import { BrokerProcess, sleep, startBroker } from './support/broker-process';
import { createTestDatabase } from './support/test-database';
import { admin, getToken } from './support/http';
import { createBloomIntegration } from './support/provider-flows';
import { clusterKey, CLUSTER_ISSUER, projectedToken, SigningKey } from './support/service-accounts';

const WEBHOOK_SECRET = 'webhook-secret-0123456789abcdef';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(200);
  }
}

describe('operations: ServiceAccount callers, metrics, audit, webhooks, throttling', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let api: ReturnType<typeof admin>;
  let jwksServer: Server;
  let jwksFetches = 0;
  const jwks: { keys: object[] } = { keys: [] };
  let signingKey: SigningKey;
  let webhookServer: Server;
  const deliveries: Received[] = [];
  let refuseNextDelivery = true;

  const serviceAccountToken = (
    sub: string,
    options: { audience?: string; issuer?: string; expiresIn?: string; key?: SigningKey; kid?: string } = {},
  ) =>
    projectedToken(sub, {
      key: signingKey,
      kid: 'cluster-key-1',
      expiresIn: '10m',
      claims: { 'kubernetes.io': { namespace: sub.split(':')[2] } },
      ...options,
    });

  beforeAll(async () => {
    const cluster = await clusterKey('cluster-key-1');
    signingKey = cluster.privateKey;
    jwks.keys.push(cluster.jwk);
    jwksServer = createServer((req, res) => {
      jwksFetches += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(jwks));
    });
    const jwksUrl = `${await listen(jwksServer)}/openid/v1/jwks`;

    webhookServer = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        deliveries.push({ headers: req.headers, body });
        if (refuseNextDelivery) {
          refuseNextDelivery = false;
          res.statusCode = 500;
        }
        res.end();
      });
    });
    const webhookUrl = `${await listen(webhookServer)}/hooks/broker`;

    sandbox = createSandbox({ autoApprove: true });
    sandboxUrl = await sandbox.listen(0);
    db = await createTestDatabase('operations');
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/6',
      BROKER_SA_JWKS_URL: jwksUrl,
      BROKER_SA_ISSUER: CLUSTER_ISSUER,
      BROKER_WEBHOOK_URL: webhookUrl,
      BROKER_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    api = admin(broker.url);
    expect((await createBloomIntegration(broker.url, sandboxUrl, 'bloom-ops')).status).toBe(201);
    expect(
      (await api.post('/admin/connections', { key: 'bloom-ops-1', integration: 'bloom-ops' })).body.status,
    ).toBe('active');
    const bound = await api.post('/admin/clients', {
      name: 'billing',
      connections: ['bloom-ops-1'],
      serviceAccount: 'apps/billing',
      apiKey: false,
    });
    expect(bound.status).toBe(201);
    expect(bound.body.apiKey).toBeUndefined();
    expect(bound.body.serviceAccount).toBe('apps/billing');
    await api.post('/admin/clients', {
      name: 'reports',
      connections: ['other'],
      serviceAccount: 'apps/reports',
      apiKey: false,
    });
  });

  afterAll(async () => {
    if (process.env.DEBUG_BROKER_OUTPUT) console.log(broker?.output());
    await broker?.stop();
    await sandbox?.close();
    jwksServer?.close();
    webhookServer?.close();
    await db?.drop();
  });

  describe('ServiceAccount tokens on GET /tokens', () => {
    it('accepts a valid projected token of a bound account', async () => {
      const response = await getToken(
        broker.url,
        await serviceAccountToken('system:serviceaccount:apps:billing'),
        'bloom-ops-1',
      );
      expect(response.status).toBe(200);
      expect(response.body.accessToken).toEqual(expect.any(String));
    });

    it.each([
      ['a wrong audience', { audience: 'vault' }],
      ['a wrong issuer', { issuer: 'https://evil.example.com' }],
      ['an expired token', { expiresIn: '-1m' }],
    ])('refuses %s with 401', async (_, options) => {
      const token = await serviceAccountToken('system:serviceaccount:apps:billing', options);
      const response = await getToken(broker.url, token, 'bloom-ops-1');
      expect(response.status).toBe(401);
      expect(response.body.error).toBe('unauthorized');
    });

    it('refuses a token signed by a key the cluster does not publish, and refetches the JWKS for it', async () => {
      const stranger = await generateKeyPair('RS256');
      const before = jwksFetches;
      const token = await serviceAccountToken('system:serviceaccount:apps:billing', {
        key: stranger.privateKey,
        kid: 'unknown-kid',
      });
      await sleep(5_100); // past the refetch cooldown
      expect((await getToken(broker.url, token, 'bloom-ops-1')).status).toBe(401);
      expect(jwksFetches).toBeGreaterThan(before);
    });

    it('picks up a rotated cluster key through the refetch', async () => {
      const rotated = await clusterKey('cluster-key-2');
      jwks.keys.push(rotated.jwk);
      await sleep(5_100);
      const token = await serviceAccountToken('system:serviceaccount:apps:billing', {
        key: rotated.privateKey,
        kid: 'cluster-key-2',
      });
      expect((await getToken(broker.url, token, 'bloom-ops-1')).status).toBe(200);
    });

    it('remembers a verified token, yet stops it at once when its client is deleted', async () => {
      const bound = await api.post('/admin/clients', {
        name: 'leaving',
        connections: ['*'],
        serviceAccount: 'apps/leaving',
        apiKey: false,
      });
      expect(bound.status).toBe(201);
      const token = await serviceAccountToken('system:serviceaccount:apps:leaving');
      // The second read is answered with the token from the verified-token cache.
      expect((await getToken(broker.url, token, 'bloom-ops-1')).status).toBe(200);
      expect((await getToken(broker.url, token, 'bloom-ops-1')).status).toBe(200);
      expect((await api.delete(`/admin/clients/${bound.body.id}`)).status).toBe(204);
      expect((await getToken(broker.url, token, 'bloom-ops-1')).status).toBe(401);
    });

    it('refuses an account bound to no client (401) and a bound account outside its connections (403)', async () => {
      expect(
        (
          await getToken(
            broker.url,
            await serviceAccountToken('system:serviceaccount:apps:nobody'),
            'bloom-ops-1',
          )
        ).status,
      ).toBe(401);
      expect(
        (
          await getToken(
            broker.url,
            await serviceAccountToken('system:serviceaccount:apps:reports'),
            'bloom-ops-1',
          )
        ).status,
      ).toBe(403);
      expect(
        (await getToken(broker.url, await serviceAccountToken('not-a-service-account'), 'bloom-ops-1'))
          .status,
      ).toBe(401);
    });
  });

  it('exposes refresh and token-request metrics after a refresh', async () => {
    expect((await api.post('/admin/connections/bloom-ops-1/refresh')).status).toBe(200);
    const metrics = (await api.get('/metrics')).text;
    expect(metrics).toMatch(
      /broker_refresh_attempts_total\{integration="bloom-ops",reason="initial",outcome="success"\} 1/,
    );
    expect(metrics).toMatch(
      /broker_refresh_attempts_total\{integration="bloom-ops",reason="admin",outcome="success"\} 1/,
    );
    expect(metrics).toMatch(
      /broker_refresh_duration_seconds_count\{integration="bloom-ops",outcome="success"\} 2/,
    );
    expect(metrics).toMatch(/broker_token_requests_total\{outcome="(stored|cache_hit)"\} \d+/);
    expect(metrics).not.toContain('bloom-ops-1'); // connection keys are not labels
  });

  it('records token reads and admin changes in the audit log', async () => {
    const reads = await eventually(async () => {
      const rows = (await api.get('/admin/audit?action=token.read&target=bloom-ops-1')).body;
      // Reads are written in batches once a second: wait for the batch holding the last one.
      return rows.some((row: { actor: string }) => row.actor === 'reports') ? rows : undefined;
    });
    expect(reads).toContainEqual(
      expect.objectContaining({
        action: 'token.read',
        actor: 'billing',
        targetType: 'connection',
        outcome: 'cache_hit',
      }),
    );
    expect(reads).toContainEqual(expect.objectContaining({ actor: 'reports', outcome: 'forbidden' }));
    const changes = (await api.get('/admin/audit?action=connection.refresh')).body;
    expect(changes[0]).toMatchObject({ actor: 'bootstrap', targetKey: 'bloom-ops-1', outcome: 'ok' });
    expect((await api.get('/admin/audit?since=yesterday')).status).toBe(400);
  });

  it('delivers signed connection events, retrying a refused delivery', async () => {
    expect(
      (await api.patch('/admin/integrations/bloom-ops', { clientSecret: 'a-wrong-secret' })).status,
    ).toBe(200);
    expect((await api.post('/admin/connections/bloom-ops-1/refresh')).status).toBe(503);
    // A misconfigured integration puts the connection in error, but its still-valid token is served.
    expect((await api.get('/admin/connections/bloom-ops-1')).body).toMatchObject({
      status: 'error',
      lastErrorCode: 'misconfigured',
    });
    const billing = await serviceAccountToken('system:serviceaccount:apps:billing');
    expect((await getToken(broker.url, billing, 'bloom-ops-1')).status).toBe(200);
    await api.post('/admin/connections', { key: 'bloom-ops-2', integration: 'bloom-ops' }); // fails at once: error
    const [refused, retried] = await eventually(async () => {
      const errors = deliveries.filter((d) => d.headers['x-broker-event'] === 'connection.error');
      const ids = errors.map((d) => d.headers['x-broker-delivery']);
      const repeated = ids.find((id, index) => ids.indexOf(id) !== index);
      return repeated ? errors.filter((d) => d.headers['x-broker-delivery'] === repeated) : undefined;
    });
    expect(refused.body).toBe(retried.body);
    expect(verifyWebhook(WEBHOOK_SECRET, retried.body, String(retried.headers['x-broker-signature']))).toBe(
      true,
    );
    expect(
      verifyWebhook('another-secret-0123456789', retried.body, String(retried.headers['x-broker-signature'])),
    ).toBe(false);
    const keys = deliveries
      .filter((d) => d.headers['x-broker-event'] === 'connection.error')
      .map((d) => JSON.parse(d.body).connection.key);
    expect(new Set(keys)).toEqual(new Set(['bloom-ops-1', 'bloom-ops-2']));
    expect(JSON.parse(retried.body)).toMatchObject({
      type: 'connection.error',
      connection: {
        integration: 'bloom-ops',
        status: 'error',
        lastError: expect.stringContaining('misconfigured'),
      },
    });
    expect(retried.body).not.toContain('a-wrong-secret');

    await api.patch('/admin/integrations/bloom-ops', { clientSecret: SANDBOX_CLIENTS.bloom.clientSecret });
    expect((await api.post('/admin/connections/bloom-ops-2/refresh')).status).toBe(200);
    const recovered = await eventually(async () =>
      deliveries.find((d) => d.headers['x-broker-event'] === 'connection.recovered'),
    );
    expect(JSON.parse(recovered.body).connection).toMatchObject({ key: 'bloom-ops-2', status: 'active' });
  });

  it('answers 429 to a source that keeps failing authentication', async () => {
    const throttled = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/6',
      BROKER_AUTH_FAILURE_LIMIT: '5',
      BROKER_ROLE: 'api',
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push(
          (await getToken(throttled.url, `tbk_guessguessgu_${'x'.repeat(43)}`, 'bloom-ops-1')).status,
        );
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      const blocked = await getToken(throttled.url, 'anything', 'bloom-ops-1');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.body).toMatchObject({ statusCode: 429, error: 'too_many_requests' });
    } finally {
      await throttled.stop();
    }
  });
});
