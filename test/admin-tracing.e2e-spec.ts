import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { ADMIN_TOKEN, BrokerProcess, sleep, startBroker } from './support/broker-process';
import { request } from './support/http';
import { createBloomIntegration } from './support/provider-flows';
import { createTestDatabase } from './support/test-database';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const attributesOf = (span: OtlpSpan) =>
  Object.fromEntries(span.attributes.map(({ key, value }) => [key, Object.values(value)[0]]));

/**
 * Admin requests in traces: each continues the caller's `traceparent` with a server span (route,
 * status, the kind of credential; never the credential), and a forced refresh's provider call sits
 * under it. Redis DB 14 (shared with the other admin identity suites; e2e files run one at a time).
 */
describe('admin requests in traces', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let broker: BrokerProcess;
  let server: Server;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    sandbox = createSandbox({ autoApprove: true });
    const sandboxUrl = await sandbox.listen(0);
    db = await createTestDatabase('admin_tracing');
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/14',
      BROKER_ROLE: 'api',
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    expect((await createBloomIntegration(broker.url, sandboxUrl, 'bloom-traced')).status).toBe(201);
    const connection = await request(broker.url, 'POST', '/admin/connections', {
      body: { key: 'bloom-traced-account', integration: 'bloom-traced' },
    });
    expect(connection.body.status).toBe('active');
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    server?.close();
    await db?.drop();
  });

  const spans = (): OtlpSpan[] =>
    bodies
      .flatMap((body) => JSON.parse(body).resourceSpans ?? [])
      .flatMap((resource: any) => resource.scopeSpans ?? [])
      .flatMap((scope: any) => scope.spans ?? []);

  async function spansOf(traceId: string, names: string[]): Promise<OtlpSpan[]> {
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
      const found = spans().filter((span) => span.traceId === traceId);
      if (names.every((name) => found.some((span) => span.name === name))) return found;
    }
    throw new Error(`spans ${names.join(', ')} not exported in time`);
  }

  it('puts a forced refresh, and its provider call, under the admin request’s server span', async () => {
    const traceId = hex(16);
    const callerSpanId = hex(8);
    const refreshed = await request(broker.url, 'POST', '/admin/connections/bloom-traced-account/refresh', {
      headers: { traceparent: `00-${traceId}-${callerSpanId}-01` },
    });
    expect(refreshed.status).toBe(200);
    const found = await spansOf(traceId, ['POST /admin/connections/:key/refresh', 'provider.token_call']);
    const server = found.find((span) => span.name === 'POST /admin/connections/:key/refresh')!;
    expect(server.parentSpanId).toBe(callerSpanId);
    expect(server.kind).toBe(2); // SERVER
    expect(attributesOf(server)).toMatchObject({
      'http.route': '/admin/connections/:key/refresh',
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'broker.admin.actor_kind': 'bootstrap',
    });
    // The provider call descends from the admin span.
    const byId = new Map(found.map((span) => [span.spanId, span]));
    let ancestor = found.find((span) => span.name === 'provider.token_call');
    while (ancestor && ancestor.spanId !== server.spanId) ancestor = byId.get(ancestor.parentSpanId ?? '');
    expect(ancestor?.spanId).toBe(server.spanId);
  });

  it('traces a refused admin request with its status, and never a credential', async () => {
    const traceId = hex(16);
    const forged = `forged-${hex(16)}`;
    const refused = await request(broker.url, 'GET', '/admin/integrations', {
      token: forged,
      headers: { traceparent: `00-${traceId}-${hex(8)}-01` },
    });
    expect(refused.status).toBe(401);
    const [server] = await spansOf(traceId, ['GET /admin/integrations']);
    expect(attributesOf(server)).toMatchObject({
      'http.response.status_code': 401,
      'error.type': 'unauthorized',
    });
    expect(attributesOf(server)['broker.admin.actor_kind']).toBeUndefined();
    const exported = bodies.join('\n');
    expect(exported).not.toContain(forged);
    expect(exported).not.toContain(ADMIN_TOKEN);
  });
});
