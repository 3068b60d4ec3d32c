import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import {
  ADMIN_TOKEN,
  BrokerProcess,
  ENCRYPTION_KEYS,
  freePort,
  sleep,
  startBroker,
} from './support/broker-process';
import { AgentProcess, metricValue, startAgent } from './support/agent-process';
import { createTestDatabase, expireStoredToken, query, storedRefreshToken } from './support/test-database';
import { admin, getToken, request } from './support/http';
import { clusterKey, CLUSTER_ISSUER, projectedToken, SigningKey } from './support/service-accounts';
import {
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
} from './support/provider-flows';

const REDIS_DB = 2;
const BILLING_CONNECTIONS = ['herd', 'revoked', 'shared', 'steady', 'ghost', 'unread'];

/**
 * Central brokers plus sidecar agents, all real processes: two brokers on one Postgres and Redis,
 * the provider sandbox, and agents that know only the broker's URL and a ServiceAccount token file.
 */
describe('sidecar agent: two central brokers, agents in front of them', () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let apiKey: string;
  let signingKey: SigningKey;
  let brokerEnv: Record<string, string>;
  const agents: AgentProcess[] = [];
  const extraAgents: AgentProcess[] = [];

  const serviceAccountToken = (account: string) =>
    projectedToken(`system:serviceaccount:${account.replace('/', ':')}`, {
      key: signingKey,
      kid: 'cluster-key-1',
    });

  /** A projected token volume as the kubelet lays it out: `token` → `..data/token`, `..data` → a timestamped dir. */
  const projectedVolume = async (name: string, account: string) => {
    const volume = join(dir, name);
    mkdirSync(volume);
    await rotateVolume(volume, account, 0);
    symlinkSync('..data/token', join(volume, 'token'));
    return join(volume, 'token');
  };
  /** The kubelet's atomic swap: a new timestamped dir, then `..data` renamed over. */
  const rotateVolume = async (volume: string, account: string, generation: number) => {
    const data = `..2026_${generation}`;
    mkdirSync(join(volume, data));
    writeFileSync(join(volume, data, 'token'), await serviceAccountToken(account));
    symlinkSync(data, join(volume, '..data_tmp'));
    renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
  };

  const refreshCalls = () => sandbox.stats().tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
  const metricsOf = async (url: string) => (await fetch(`${url}/metrics`)).text();
  const read = (agent: AgentProcess, connection: string, minValidity?: number) =>
    request(
      agent.url,
      'GET',
      `/tokens/${connection}${minValidity === undefined ? '' : `?minValidity=${minValidity}`}`,
      {
        token: null,
      },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agent-e2e-'));
    const cluster = await clusterKey('cluster-key-1');
    signingKey = cluster.privateKey;
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [cluster.jwk] }));
    db = await createTestDatabase('agent');
    await redisFlush();
    sandbox = createSandbox({ autoApprove: true, accessTokenTtlSeconds: 600 });
    sandboxUrl = await sandbox.listen(0);
    const portA = await freePort();
    const common = (brokerEnv = {
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${portA}`,
      BROKER_SA_JWKS_FILE: jwksFile,
      BROKER_SA_ISSUER: CLUSTER_ISSUER,
      // Every process here calls from 127.0.0.1; the refused-credential case must not block the others.
      BROKER_AUTH_FAILURE_LIMIT: '1000',
    });
    [a, b] = await Promise.all([startBroker({ ...common, PORT: String(portA) }), startBroker(common)]);
    await createBloomerangIntegration(a.url, sandboxUrl, 'bloomerang');
    for (const key of ['shared', 'herd', 'revoked', 'forbidden', 'unread'])
      await connectBloomerang(a.url, 'bloomerang', key);
    apiKey = await createApiKey(a.url);
    for (const [name, account, connections] of [
      ['billing', 'apps/billing', BILLING_CONNECTIONS],
      ['reports', 'apps/reports', ['forbidden']],
    ] as const) {
      const bound = await admin(a.url).post('/admin/clients', {
        name,
        connections,
        serviceAccount: account,
        apiKey: false,
      });
      expect(bound.status).toBe(201);
    }
    const started = await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) =>
        startAgent({
          AGENT_BROKER_URL: i % 2 ? b.url : a.url,
          AGENT_TOKEN_FILE: await projectedVolume(`agent-${i}`, 'apps/billing'),
        }),
      ),
    );
    agents.push(...started);
  });

  afterAll(async () => {
    for (const agent of [...agents, ...extraAgents]) await agent.stop();
    await a?.stop();
    await b?.stop();
    await sandbox?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("answers the broker's GET /caller: who a credential is, never a secret", async () => {
    const billing = await request(a.url, 'GET', '/caller', {
      token: await serviceAccountToken('apps/billing'),
    });
    expect(billing.status).toBe(200);
    expect(billing.headers.get('cache-control')).toBe('no-store');
    expect(billing.body).toEqual({
      name: 'billing',
      kind: 'service_account',
      connections: [...BILLING_CONNECTIONS].sort(),
    });
    const byKey = await request(b.url, 'GET', '/caller', { token: apiKey });
    expect(byKey.body).toEqual({
      name: expect.stringMatching(/^test-/),
      kind: 'api_key',
      connections: ['*'],
    });
    expect(JSON.stringify(byKey.body)).not.toContain(apiKey.slice(4));
    expect((await request(a.url, 'GET', '/caller', { token: null })).status).toBe(401);
    const unbound = await request(a.url, 'GET', '/caller', {
      token: await serviceAccountToken('apps/nobody'),
    });
    expect(unbound.status).toBe(401);
  });

  it('serves a token through an agent whose environment holds no database URL, Redis URL, key or admin token', async () => {
    const agent = agents[0];
    const answer = await read(agent, 'shared');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Object.keys(answer.body).sort()).toEqual([
      'accessToken',
      'expiresAt',
      'expiresIn',
      'scope',
      'tokenType',
    ]);
    const direct = await getToken(a.url, apiKey, 'shared');
    expect(answer.body.accessToken).toBe(direct.body.accessToken);
    const me = await fetch(`${sandboxUrl}/bloomerang/v2/me`, {
      headers: { authorization: `Bearer ${answer.body.accessToken}` },
    });
    expect(me.status).toBe(200);
    const ready = await request(agent.url, 'GET', '/health/ready', { token: null });
    expect(ready.body).toEqual({ status: 'ready', caller: { name: 'billing', kind: 'service_account' } });

    // The process's real environment, as the kernel holds it.
    const environ = readFileSync(`/proc/${agent.child.pid}/environ`, 'utf8').split('\0').filter(Boolean);
    const names = environ.map((entry) => entry.slice(0, entry.indexOf('=')));
    expect(names.filter((name) => !name.startsWith('AGENT_')).sort()).toEqual(['PATH']);
    for (const secret of [
      db.url,
      'redis://',
      ENCRYPTION_KEYS,
      ADMIN_TOKEN,
      SANDBOX_CLIENTS.bloomerang.clientSecret,
    ]) {
      expect(environ.join('\n')).not.toContain(secret);
    }
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'BROKER_ENCRYPTION_KEYS', 'BROKER_ADMIN_TOKEN']) {
      expect(names).not.toContain(name);
    }
    // Nor do its logs carry the credential or the token.
    const credential = readFileSync(agent.env.AGENT_TOKEN_FILE, 'utf8');
    expect(agent.output()).not.toContain(credential);
    expect(agent.output()).not.toContain(answer.body.accessToken);
  });

  it('answers 1,000 concurrent reads over 5 agents for an expired token with one upstream refresh', async () => {
    await expireStoredToken(db.url, 'herd');
    sandbox.configure({ tokenLatencyMs: 300 });
    const brokerCallsBefore = await Promise.all(
      agents.map(async (agent) =>
        metricValue(await metricsOf(agent.url), 'agent_broker_request_duration_seconds_count', {
          purpose: 'read',
        }),
      ),
    );
    const before = refreshCalls();
    const answers = await Promise.all(Array.from({ length: 1000 }, (_, i) => read(agents[i % 5], 'herd')));
    sandbox.configure({ tokenLatencyMs: 0 });
    expect(answers.map((answer) => answer.status)).toEqual(Array(1000).fill(200));
    expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
    expect(refreshCalls() - before).toBe(1);
    // One broker call per agent: the 200 reads each agent took shared it.
    const brokerCallsAfter = await Promise.all(
      agents.map(async (agent) =>
        metricValue(await metricsOf(agent.url), 'agent_broker_request_duration_seconds_count', {
          purpose: 'read',
        }),
      ),
    );
    expect(brokerCallsAfter.map((after, i) => after - brokerCallsBefore[i])).toEqual([1, 1, 1, 1, 1]);
  });

  it("passes the broker's 403, 404 and 409 through unchanged, and holds them", async () => {
    // Spend the stored refresh token elsewhere: the next refresh finds it dead, and the connection needs re-authorization.
    const stolen = await fetch(`${sandboxUrl}/bloomerang/v2/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${SANDBOX_CLIENTS.bloomerang.clientId}:${SANDBOX_CLIENTS.bloomerang.clientSecret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: await storedRefreshToken(db.url, 'revoked'),
      }),
    });
    expect(stolen.status).toBe(200);
    await admin(a.url).post('/admin/connections/revoked/refresh');
    expect((await admin(a.url).get('/admin/connections/revoked')).body.status).toBe('needs_reauthorization');

    const billing = await serviceAccountToken('apps/billing');
    const cases = [
      ['forbidden', 403],
      ['ghost', 404],
      ['revoked', 409],
    ] as const;
    const agent = agents[1]; // asks broker b
    for (const [connection, status] of cases) {
      const direct = await getToken(b.url, billing, connection);
      expect(direct.status).toBe(status);
      const relayed = await read(agent, connection);
      expect(relayed.status).toBe(status);
      expect(relayed.body).toEqual(direct.body);
      expect(relayed.body).toEqual({
        statusCode: status,
        error: expect.any(String),
        message: expect.any(String),
      });
    }
    const outcomes = ['forbidden', 'not_found', 'needs_reauthorization'];
    const brokerDenials = async () => {
      let total = 0;
      for (const broker of [a, b]) {
        const text = await metricsOf(broker.url);
        for (const outcome of outcomes)
          total += metricValue(text, 'broker_token_requests_total', { outcome });
      }
      return total;
    };
    const deniedBefore = await brokerDenials();
    const heldBefore = metricValue(await metricsOf(agent.url), 'agent_negative_cache_hits_total');
    for (const [connection, status] of cases) expect((await read(agent, connection)).status).toBe(status);
    expect(await brokerDenials()).toBe(deniedBefore);
    expect(metricValue(await metricsOf(agent.url), 'agent_negative_cache_hits_total')).toBe(heldBefore + 3);
  });

  it('picks up a rotated token file: from a refused credential to an accepted one, then to another account', async () => {
    const tokenFile = await projectedVolume('rotating', 'apps/nobody');
    const volume = join(dir, 'rotating');
    const agent = await startAgent(
      { AGENT_BROKER_URL: a.url, AGENT_TOKEN_FILE: tokenFile },
      { waitReady: false },
    );
    extraAgents.push(agent);
    const notReady = await eventually(async () => {
      const ready = await request(agent.url, 'GET', '/health/ready', { token: null });
      return /refused the agent's credential/.test(ready.body?.message ?? '') ? ready : undefined;
    });
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ statusCode: 503, error: 'service_unavailable' });
    const refused = await read(agent, 'shared');
    expect(refused.status).toBe(503);
    expect(refused.body.message).toMatch(/refused the agent's credential/);
    expect(agent.output()).toMatch(/refused the agent's credential/);

    await rotateVolume(volume, 'apps/billing', 1);
    await eventually(
      async () => ((await fetch(`${agent.url}/health/ready`)).status === 200 ? true : undefined),
      5_000,
    );
    expect((await read(agent, 'shared')).status).toBe(200);
    expect((await read(agent, 'forbidden')).status).toBe(403);

    await rotateVolume(volume, 'apps/reports', 2);
    await eventually(async () => {
      const ready = await request(agent.url, 'GET', '/health/ready', { token: null });
      return ready.body?.caller?.name === 'reports' ? true : undefined;
    }, 5_000);
    // Another account: what the old one could read is not served from memory.
    expect((await read(agent, 'shared')).status).toBe(403);
    expect((await read(agent, 'forbidden')).status).toBe(200);
  });

  it('keeps Postgres connections unchanged when agents are added', async () => {
    const connections = async () =>
      Number(
        (
          await query<{ count: string }>(
            'postgres://postgres@127.0.0.1:5432/postgres',
            'SELECT count(*) FROM pg_stat_activity WHERE datname = $1',
            [db.name],
          )
        )[0].count,
      );
    // Both brokers hold the token in memory, so the added agents' reads cost them no query.
    for (const broker of [a, b]) expect((await getToken(broker.url, apiKey, 'shared')).status).toBe(200);
    const before = await connections();
    const added = await Promise.all(
      [0, 1, 2].map(async (i) =>
        startAgent({
          AGENT_BROKER_URL: i % 2 ? b.url : a.url,
          AGENT_TOKEN_FILE: await projectedVolume(`added-${i}`, 'apps/billing'),
        }),
      ),
    );
    extraAgents.push(...added);
    for (const agent of added) expect((await read(agent, 'shared')).status).toBe(200);
    const after = await connections();
    console.log(`Postgres sessions of the test database: ${before} before adding 3 agents, ${after} after`);
    expect(after).toBeLessThanOrEqual(before);
  });

  it('never makes steady readers of 20-second tokens wait on the broker', async () => {
    await createBloomIntegration(a.url, sandboxUrl, 'bloom');
    sandbox.configure({ bloomTokenTtlSeconds: 20 });
    const created = await admin(a.url).post('/admin/connections', { key: 'steady', integration: 'bloom' });
    expect(created.body.status).toBe('active');
    const agent = agents[2];
    const first = await read(agent, 'steady', 5);
    expect(first.status).toBe(200);
    const missesAfterFirst = metricValue(await metricsOf(agent.url), 'agent_cache_misses_total');
    const tokens = new Set<string>([first.body.accessToken]);
    const slowest = { ms: 0 };
    const until = Date.now() + 45_000;
    while (Date.now() < until) {
      const started = performance.now();
      const answer = await read(agent, 'steady', 5);
      slowest.ms = Math.max(slowest.ms, performance.now() - started);
      expect(answer.status).toBe(200);
      expect(answer.body.expiresIn).toBeGreaterThanOrEqual(5);
      tokens.add(answer.body.accessToken);
      await sleep(250);
    }
    const text = await metricsOf(agent.url);
    console.log(
      `steady: ${tokens.size} distinct tokens over 45 s, slowest read ${slowest.ms.toFixed(1)} ms, ` +
        `read-aheads ${metricValue(text, 'agent_read_ahead_total', { result: 'ok' })}`,
    );
    expect(metricValue(text, 'agent_cache_misses_total')).toBe(missesAfterFirst);
    expect(tokens.size).toBeGreaterThanOrEqual(3);
    expect(metricValue(text, 'agent_read_ahead_total', { result: 'ok' })).toBeGreaterThanOrEqual(2);
  }, 70_000);

  it('keeps serving cached tokens and stays ready while the central brokers are down', async () => {
    const agent = agents[3];
    const cached = await read(agent, 'shared');
    expect(cached.status).toBe(200);
    expect([await a.stop(), await b.stop()]).toEqual([0, 0]);
    const again = await read(agent, 'shared');
    expect(again.status).toBe(200);
    expect(again.body.accessToken).toBe(cached.body.accessToken);
    const uncached = await read(agent, 'unread');
    expect(uncached.status).toBe(503);
    expect(uncached.body).toEqual({
      statusCode: 503,
      error: 'service_unavailable',
      message: expect.stringMatching(/unreachable/),
    });
    expect((await fetch(`${agent.url}/health/ready`)).status).toBe(200);
    expect(
      metricValue(await metricsOf(agent.url), 'agent_broker_errors_total', { kind: 'refused' }),
    ).toBeGreaterThan(0);

    // The central broker comes back at its address: the agent needs nothing to use it again.
    b = await startBroker({ ...brokerEnv, PORT: String(b.port) });
    const afterRestart = await read(agent, 'unread');
    expect(afterRestart.status).toBe(200);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await agents[4].stop('SIGTERM')).toBe(0);
  });
});

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

async function redisFlush(): Promise<void> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  redis.disconnect();
}
