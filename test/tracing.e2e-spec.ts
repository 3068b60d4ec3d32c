import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import Redis from 'ioredis';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import {
  ADMIN_TOKEN,
  BrokerProcess,
  brokerEnv,
  runBrokerToExit,
  sleep,
  startBroker,
} from './support/broker-process';
import { getToken, request } from './support/http';
import { connectBloomerang, createApiKey, createBloomerangIntegration } from './support/provider-flows';
import { createTestDatabase, storedRefreshToken } from './support/test-database';

const REDIS_URL = 'redis://127.0.0.1:6379/10';

interface Export {
  contentType: string;
  headers: Record<string, unknown>;
  body: Buffer;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

/** An OTLP/HTTP receiver: keeps every POST to /v1/traces as it arrived. */
class OtlpReceiver {
  readonly exports: Export[] = [];
  private readonly server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.statusCode = 404;
        res.end();
        return;
      }
      const contentType = String(req.headers['content-type'] ?? '');
      this.exports.push({ contentType, headers: req.headers, body: Buffer.concat(chunks) });
      res.setHeader('content-type', contentType.includes('json') ? 'application/json' : contentType);
      res.end(contentType.includes('json') ? '{}' : undefined);
    });
  });

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    this.server.close();
  }

  /** Every span of the JSON exports received so far. */
  spans(): OtlpSpan[] {
    return this.exports
      .filter((item) => item.contentType.startsWith('application/json'))
      .flatMap((item) => JSON.parse(item.body.toString('utf8')).resourceSpans ?? [])
      .flatMap((resourceSpans: any) => resourceSpans.scopeSpans ?? [])
      .flatMap((scopeSpans: any) => scopeSpans.spans ?? []);
  }

  resources(): Record<string, unknown>[] {
    return this.exports
      .filter((item) => item.contentType.startsWith('application/json'))
      .flatMap((item) => JSON.parse(item.body.toString('utf8')).resourceSpans ?? [])
      .map((resourceSpans: any) => attributesOf(resourceSpans.resource));
  }
}

function attributesOf(holder: { attributes?: OtlpSpan['attributes'] } | undefined): Record<string, unknown> {
  return Object.fromEntries(
    (holder?.attributes ?? []).map(({ key, value }) => [key, Object.values(value)[0]]),
  );
}

async function eventually<T>(probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

describe('traces: OpenTelemetry spans exported over OTLP/HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let receiver: OtlpReceiver;
  let receiverUrl: string;
  let broker: BrokerProcess;
  let apiKey: string;
  /** Every value that must never leave the broker in a span. */
  const secrets: Record<string, string> = {};

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    receiverUrl = await receiver.listen();
    sandbox = createSandbox({ autoApprove: true });
    sandboxUrl = await sandbox.listen(0);
    db = await createTestDatabase('tracing');
    // Jobs left in this suite's Redis database by an earlier run would name connections of a
    // database that is gone.
    const redis = new Redis(REDIS_URL, { lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_SERVICE_NAME: 'broker-under-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=e2e',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      BROKER_RECONCILE_INTERVAL_SECONDS: '5',
      // The sandbox's hour-long tokens are refreshed after 45 minutes: within this horizon, so a
      // refresh queues its next one on BullMQ at once (the trace shows that Redis call).
      BROKER_SCHEDULE_HORIZON_SECONDS: '3600',
    });
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang-traced');
    const { callbackUrl } = await connectBloomerang(broker.url, 'bloomerang-traced', 'traced-account');
    apiKey = await createApiKey(broker.url, ['traced-account']);
    secrets.authorizationCode = new URL(callbackUrl).searchParams.get('code')!;
    secrets.firstRefreshToken = await storedRefreshToken(db.url, 'traced-account');
    secrets.clientSecret = SANDBOX_CLIENTS.bloomerang.clientSecret;
    secrets.apiKey = apiKey;
    secrets.adminToken = ADMIN_TOKEN;
  });

  afterAll(async () => {
    if (process.env.DEBUG_BROKER_OUTPUT) console.log(broker?.output());
    await broker?.stop();
    await sandbox?.close();
    receiver?.close();
    await db?.drop();
  });

  it('continues the caller’s traceparent through the refresh, the provider call and Postgres', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    // A cache miss that refreshes: the stored token has an hour left, the caller asks for a day.
    const response = await request(broker.url, 'GET', '/tokens/traced-account?minValidity=86400', {
      token: apiKey,
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(response.status).toBe(200);
    secrets.accessToken = response.body.accessToken;
    secrets.secondRefreshToken = await storedRefreshToken(db.url, 'traced-account');
    expect(secrets.secondRefreshToken).not.toBe(secrets.firstRefreshToken);

    const inTrace = () => receiver.spans().filter((span) => span.traceId === traceId);
    const spans = await eventually(() => {
      const found = inTrace();
      const names = new Set(found.map((span) => span.name));
      return ['GET /tokens/:connection', 'token.refresh', 'provider.token_call', 'token.refresh.write'].every(
        (name) => names.has(name),
      )
        ? found
        : undefined;
    });
    const byName = (name: string) => {
      const matching = spans.filter((span) => span.name === name);
      expect(matching).toHaveLength(1);
      return matching[0];
    };

    const tokenRequest = byName('GET /tokens/:connection');
    expect(tokenRequest.parentSpanId).toBe(callerSpanId);
    expect(tokenRequest.kind).toBe(2); // SERVER
    expect(attributesOf(tokenRequest)).toMatchObject({
      'broker.connection': 'traced-account',
      'broker.token.outcome': 'refreshed',
      'http.route': '/tokens/:connection',
      'http.response.status_code': 200,
    });

    const refresh = byName('token.refresh');
    expect(refresh.parentSpanId).toBe(tokenRequest.spanId);
    expect(attributesOf(refresh)).toMatchObject({
      'broker.connection': 'traced-account',
      'broker.integration': 'bloomerang-traced',
      'broker.refresh.reason': 'on_demand',
      'broker.refresh.result': 'refreshed',
    });

    const lease = byName('token.refresh.lease');
    expect(lease.parentSpanId).toBe(refresh.spanId);
    expect(attributesOf(lease)).toMatchObject({ 'broker.lease.acquired': true });

    const providerCall = byName('provider.token_call');
    expect(providerCall.parentSpanId).toBe(refresh.spanId);
    expect(attributesOf(providerCall)).toMatchObject({
      'broker.provider.kind': 'bloomerang',
      'broker.provider.grant': 'refresh_token',
      'broker.provider.outcome': 'success',
      'broker.integration': 'bloomerang-traced',
    });

    const write = byName('token.refresh.write');
    expect(write.parentSpanId).toBe(refresh.spanId);
    expect(attributesOf(write)).toMatchObject({ 'broker.write.result': 'tokens' });

    // Postgres, from the pg instrumentation: the lease and the write are statements in this trace.
    const ids = new Set(spans.map((span) => span.spanId));
    const queries = spans.filter((span) => attributesOf(span)['db.system.name'] === 'postgresql');
    expect(queries.length).toBeGreaterThanOrEqual(2);
    for (const query of queries) expect(ids.has(query.parentSpanId!)).toBe(true);
    expect(queries.some((query) => query.parentSpanId === lease.spanId)).toBe(true);
    expect(queries.some((query) => query.parentSpanId === write.spanId)).toBe(true);
    // Query texts are recorded, parameter values are not.
    expect(queries.every((query) => attributesOf(query)['db.postgresql.values'] === undefined)).toBe(true);

    // Redis, from the ioredis instrumentation: the next refresh is scheduled on BullMQ.
    const redisCalls = await eventually(() => {
      const found = inTrace().filter((span) => attributesOf(span)['db.system.name'] === 'redis');
      return found.length > 0 ? found : undefined;
    });
    for (const call of redisCalls) expect(String(attributesOf(call)['db.query.text'])).toMatch(/^\w+$/);

    if (process.env.DEBUG_TRACES) {
      for (const span of spans)
        console.log(span.name, span.spanId, span.parentSpanId, JSON.stringify(attributesOf(span)));
    }
    const [resource] = receiver.resources();
    expect(resource).toMatchObject({
      'service.name': 'broker-under-test',
      'deployment.environment.name': 'e2e',
    });
  });

  it('names a cache hit, and starts a new trace when the caller sends no traceparent', async () => {
    const before = new Set(receiver.spans().map((span) => span.spanId));
    expect((await getToken(broker.url, apiKey, 'traced-account')).status).toBe(200);
    const span = await eventually(() =>
      receiver
        .spans()
        .find((candidate) => candidate.name === 'GET /tokens/:connection' && !before.has(candidate.spanId)),
    );
    expect(span.parentSpanId ?? '').toBe('');
    expect(attributesOf(span)['broker.token.outcome']).toBe('cache_hit');
  });

  it('marks a refused request with its status and error code', async () => {
    const traceId = hex(16);
    const response = await request(broker.url, 'GET', '/tokens/traced-account?minValidity=nope', {
      token: apiKey,
      headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(response.status).toBe(400);
    const span = await eventually(() => receiver.spans().find((candidate) => candidate.traceId === traceId));
    expect(span.status?.code).toBe(2); // ERROR
    expect(attributesOf(span)).toMatchObject({
      'http.response.status_code': 400,
      'error.type': 'bad_request',
    });
  });

  it('runs each scheduler job in its own trace, with the refresh inside it', async () => {
    // Short-lived tokens: the refresh job of the next token runs within seconds.
    sandbox.configure({ accessTokenTtlSeconds: 8 });
    try {
      expect((await getToken(broker.url, apiKey, 'traced-account', 86400)).status).toBe(200);
    } finally {
      sandbox.configure({ accessTokenTtlSeconds: 3600 });
    }
    const job = await eventually(
      () =>
        receiver
          .spans()
          .find(
            (span) =>
              span.name === 'scheduler refresh-connection' &&
              attributesOf(span)['broker.job.result'] === 'refreshed',
          ),
      20_000,
    );
    expect(job.parentSpanId ?? '').toBe('');
    expect(job.kind).toBe(5); // CONSUMER
    const refresh = await eventually(() =>
      receiver.spans().find((span) => span.name === 'token.refresh' && span.parentSpanId === job.spanId),
    );
    expect(attributesOf(refresh)['broker.refresh.reason']).toBe('scheduled');
    const providerCall = await eventually(() =>
      receiver
        .spans()
        .find((span) => span.name === 'provider.token_call' && span.parentSpanId === refresh.spanId),
    );
    expect(attributesOf(providerCall)['broker.provider.outcome']).toBe('success');
  });

  it('traces the reconcile job, whose counts feed the connection gauges the alerts watch', async () => {
    const reconcile = await eventually(
      () => receiver.spans().find((span) => span.name === 'scheduler reconcile'),
      20_000,
    );
    expect(reconcile.parentSpanId ?? '').toBe('');
    const queries = await eventually(() => {
      const found = receiver
        .spans()
        .filter(
          (span) =>
            span.parentSpanId === reconcile.spanId && attributesOf(span)['db.system.name'] === 'postgresql',
        );
      return found.length > 0 ? found : undefined;
    });
    expect(queries.some((query) => String(attributesOf(query)['db.query.text']).includes('unnest'))).toBe(
      true,
    );

    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    expect(metrics).toMatch(/^broker_connections\{integration="bloomerang-traced",status="active"\} 1$/m);
    expect(metrics).toMatch(
      /^broker_connections\{integration="bloomerang-traced",status="needs_reauthorization"\} 0$/m,
    );
    const expiry =
      /^broker_refresh_token_soonest_expiry_seconds\{integration="bloomerang-traced"\} (\S+)$/m.exec(metrics);
    expect(Number(expiry?.[1])).toBeGreaterThan(86400);
    expect(metrics).toMatch(/^broker_refresh_overdue_connections 0$/m);
    expect(metrics).toMatch(/^broker_token_request_duration_seconds_count\{outcome="refreshed"\} [1-9]/m);
  });

  it('never exports a token, code, secret, API key or the admin token', async () => {
    secrets.latestRefreshToken = await storedRefreshToken(db.url, 'traced-account');
    const latest = await getToken(broker.url, apiKey, 'traced-account');
    secrets.latestAccessToken = latest.body.accessToken;
    await sleep(500); // one more export round
    expect(receiver.exports.length).toBeGreaterThan(0);
    expect(Object.values(secrets).every((value) => typeof value === 'string' && value.length >= 8)).toBe(
      true,
    );

    // Every attribute value of every span and resource, and the raw bodies as a whole.
    const values = [
      ...receiver.spans().flatMap((span) => Object.values(attributesOf(span))),
      ...receiver.resources().flatMap((resource) => Object.values(resource)),
    ].map(String);
    const raw = receiver.exports.map((item) => item.body.toString('utf8')).join('\n');
    for (const [name, secret] of Object.entries(secrets)) {
      expect({ name, inAttribute: values.some((value) => value.includes(secret)) }).toEqual({
        name,
        inAttribute: false,
      });
      expect({ name, inExport: raw.includes(secret) }).toEqual({ name, inExport: false });
    }
  });

  it('exports http/protobuf, and flushes what is buffered on SIGTERM', async () => {
    // The first broker keeps exporting JSON to the same receiver; this one is told by its encoding.
    const protobufExports = () => receiver.exports.filter((item) => !item.contentType.includes('json'));
    expect(protobufExports()).toHaveLength(0);
    const protobufBroker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL,
      BROKER_ROLE: 'api',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiverUrl}/v1/traces`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-tenant=broker',
      // Nothing is exported on schedule within this test: only the SIGTERM flush can deliver it.
      OTEL_BSP_SCHEDULE_DELAY: '600000',
    });
    const traceId = hex(16);
    try {
      const response = await request(protobufBroker.url, 'GET', '/tokens/traced-account', {
        token: apiKey,
        headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
      });
      expect(response.status).toBe(200);
      await sleep(300);
      expect(protobufExports()).toHaveLength(0);
    } finally {
      expect(await protobufBroker.stop('SIGTERM')).toBe(0);
    }
    const delivered = protobufExports();
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.every((item) => item.contentType === 'application/x-protobuf')).toBe(true);
    expect(delivered.every((item) => item.headers['x-collector-tenant'] === 'broker')).toBe(true);
    const bytes = Buffer.concat(delivered.map((item) => item.body));
    // Protobuf carries ids as raw bytes: the caller's trace id is in there, and the span name.
    expect(bytes.includes(Buffer.from(traceId, 'hex'))).toBe(true);
    expect(bytes.includes(Buffer.from('GET /tokens/:connection'))).toBe(true);
    for (const secret of Object.values(secrets)) expect(bytes.includes(Buffer.from(secret))).toBe(false);
  });

  it('refuses an OTLP protocol it does not speak with one line naming the variable', async () => {
    const { code, output } = await runBrokerToExit(
      brokerEnv({
        DATABASE_URL: db.url,
        REDIS_URL,
        OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
    );
    expect(code).toBe(1);
    expect(output.trim()).toBe(
      'Configuration error: OTEL_EXPORTER_OTLP_PROTOCOL must be one of http/protobuf, http/json (got "grpc"; grpc is not supported)',
    );
  });

  it('loads no SDK module when no endpoint is set, and the SDK and instrumentations when one is', () => {
    const loadedModules = (env: Record<string, string>) => {
      const script =
        "require('./dist/apps/broker/src/tracing');" +
        "process.stdout.write(Object.keys(require.cache).filter((f) => f.includes('@opentelemetry')).join('\\n'))";
      const { NODE_OPTIONS: _ignored, ...parent } = process.env;
      return execFileSync(process.execPath, ['-e', script], { env: { ...parent, ...env }, encoding: 'utf8' });
    };
    const off = loadedModules({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' });
    expect(off).toBe('');
    const on = loadedModules({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiverUrl,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    for (const name of [
      'sdk-trace-node',
      'exporter-trace-otlp-http',
      'instrumentation-pg',
      'instrumentation-ioredis',
    ]) {
      expect(on).toContain(`@opentelemetry/${name}/`);
    }
  });
});
