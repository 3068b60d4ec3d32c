import fc from 'fast-check';
import { Client } from 'pg';
import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, startBroker } from './support/broker-process';
import { createTestDatabase } from './support/test-database';
import { admin, JsonResponse, request } from './support/http';
import { createApiKey, createBloomerangIntegration, createBloomIntegration } from './support/provider-flows';

const RUNS = 60;
const POLLUTION = ['__proto__', 'constructor', 'prototype'];

/**
 * Property-based hostile input over every admin endpoint, the callback and the token endpoint:
 * never a 5xx, every 4xx a `{ statusCode, error, message }` with a message, and nothing written
 * when a request is refused.
 */
describe('hostile input', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let broker: BrokerProcess;
  let apiKey: string;

  // One connection for every snapshot: each probe takes two, and a new connection for each made
  // the property tests outlast their timeout on a slow machine.
  let snapshots: Client;

  // What a request could write. Token columns are left out: the scheduler refreshes in the background.
  const snapshot = async () =>
    JSON.stringify(
      (
        await snapshots.query(
          `SELECT (SELECT md5(coalesce(string_agg(i::text, ',' ORDER BY id), '')) FROM integrations i) AS integrations,
                (SELECT md5(coalesce(string_agg(concat_ws('|', id, key, integration_id, requested_scopes, created_at), ',' ORDER BY id), ''))
                   FROM connections) AS connections,
                (SELECT md5(coalesce(string_agg(k::text, ',' ORDER BY id), '')) FROM clients k) AS clients,
                (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM oauth_states s) AS states`,
        )
      ).rows,
    );

  function expectWellFormed(response: JsonResponse, label: string): void {
    if (response.status >= 500) throw new Error(`${label} → ${response.status} ${response.text}`);
    if (response.status >= 400) {
      expect(response.body).toEqual({
        statusCode: response.status,
        error: expect.any(String),
        message: expect.any(String),
      });
      expect(response.body.message.length).toBeGreaterThan(0);
    }
  }

  /** Sends the request; when it is refused, checks that nothing was written. */
  async function probe(label: string, send: () => Promise<JsonResponse>): Promise<JsonResponse> {
    const before = await snapshot();
    const response = await send();
    expectWellFormed(response, label);
    if (response.status >= 400) expect(await snapshot()).toBe(before);
    return response;
  }

  beforeAll(async () => {
    db = await createTestDatabase('hostile');
    sandbox = createSandbox({ autoApprove: true });
    const sandboxUrl = await sandbox.listen(0);
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/5',
      BROKER_AUTH_FAILURE_LIMIT: '1000000',
    });
    snapshots = new Client({ connectionString: db.url });
    await snapshots.connect();
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    await createBloomIntegration(broker.url, sandboxUrl, 'bloom');
    await admin(broker.url).post('/admin/connections', { key: 'bloom-1', integration: 'bloom' });
    await admin(broker.url).post('/admin/connections', { key: 'pending-1', integration: 'bloomerang' });
    apiKey = await createApiKey(broker.url, ['bloom-1']);
  });

  afterAll(async () => {
    await snapshots?.end();
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  const anyValue = fc.oneof(
    fc.jsonValue(),
    fc.string(),
    fc.string({ unit: 'grapheme', maxLength: 50 }),
    fc.array(fc.string()),
    fc.integer(),
    fc.constant(null),
    fc.string({ minLength: 5000, maxLength: 20000 }),
    fc.dictionary(fc.constantFrom(...POLLUTION, 'a'), fc.jsonValue()),
  );

  /** A valid body with one field replaced, removed or added, or an arbitrary value instead. */
  const mutated = (valid: Record<string, unknown>) =>
    fc.oneof(
      fc
        .record({ field: fc.constantFrom(...Object.keys(valid)), value: anyValue })
        .map(({ field, value }) => ({ ...valid, [field]: value })),
      fc
        .constantFrom(...Object.keys(valid))
        .map((field) => Object.fromEntries(Object.entries(valid).filter(([k]) => k !== field))),
      fc
        .record({ field: fc.oneof(fc.constantFrom(...POLLUTION), fc.string()), value: anyValue })
        .map(({ field, value }) => ({
          ...valid,
          [field]: value,
        })),
      anyValue,
    );

  const rawBody = fc.oneof(
    fc.string().map((text) => ({ text, type: 'application/json' })),
    fc.string().map((text) => ({ text, type: 'text/plain' })),
    fc
      .constantFrom('{"key":', '[1,2', '{"__proto__":{"polluted":true}}', 'null', '"str"', '{}'.repeat(1000))
      .map((text) => ({
        text,
        type: 'application/json',
      })),
  );

  const bodies: [string, string, Record<string, unknown>][] = [
    [
      'POST',
      '/admin/integrations',
      { key: 'fc-int', provider: 'bloomerang', clientId: 'c', clientSecret: 's', scopes: ['OrgAdmin'] },
    ],
    ['PATCH', '/admin/integrations/bloom', { scopes: ['data-access:all'], clientSecret: 'x' }],
    ['POST', '/admin/connections', { key: 'fc-conn', integration: 'bloom', scopes: ['data-access:all'] }],
    ['POST', '/admin/clients', { name: 'fc-client', connections: ['bloom-1'] }],
    [
      'POST',
      '/admin/connections',
      {
        key: 'fc-imported',
        integration: 'bloomerang',
        refreshToken: 'fc-refresh-token',
        accessToken: 'fc-access-token',
        expiresAt: '2030-01-01T00:00:00Z',
        scope: 'OrgAdmin',
      },
    ],
    [
      'POST',
      '/admin/connections/import',
      { connections: [{ key: 'fc-bulk', integration: 'bloomerang', refreshToken: 'fc-refresh-token' }] },
    ],
  ];

  it.each(bodies)('%s %s: mutated JSON bodies', async (method, path, valid) => {
    await fc.assert(
      fc.asyncProperty(mutated(valid), async (body) => {
        await probe(`${method} ${path} ${JSON.stringify(body)?.slice(0, 200)}`, () =>
          request(broker.url, method, path, { body: body === undefined ? 'null' : JSON.stringify(body) }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it.each(bodies)('%s %s: malformed bodies and content types', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(rawBody, async ({ text, type }) => {
        await probe(`${method} ${path} ${type} ${text.slice(0, 100)}`, () =>
          request(broker.url, method, path, { body: text, headers: { 'content-type': type } }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('POST /admin/connections/import: mutated items, each answered on its own', async () => {
    const item = {
      key: 'fc-item',
      integration: 'bloomerang',
      refreshToken: 'fc-refresh-token',
      accessToken: 'fc-access-token',
      expiresAt: '2030-01-01T00:00:00Z',
      refreshTokenExpiresAt: '2031-01-01T00:00:00+02:00',
    };
    await fc.assert(
      fc.asyncProperty(mutated(item), async (mutant) => {
        const before = await snapshot();
        const response = await probe(`import ${JSON.stringify(mutant)?.slice(0, 200)}`, () =>
          admin(broker.url).post('/admin/connections/import', { connections: [mutant] }),
        );
        // The JSON parser refuses a whole body carrying prototype keys, wherever they are.
        if (response.status === 400) {
          expect(JSON.stringify(mutant)).toMatch(/"(__proto__|constructor)"/);
          return;
        }
        expect(response.status).toBe(200);
        expect(response.body.results).toHaveLength(1);
        const [result] = response.body.results;
        if (result.status === 'invalid') {
          expect(result.error.length).toBeGreaterThan(0);
          expect(await snapshot()).toBe(before);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('admin paths and query strings', async () => {
    const segment = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom('..', '%', 'bloom', 'x'.repeat(300)),
    );
    const routes = fc.constantFrom(
      ['GET', '/admin/integrations/'],
      ['DELETE', '/admin/integrations/'],
      ['GET', '/admin/connections/'],
      ['DELETE', '/admin/connections/'],
      ['POST', '/admin/connections/', '/authorize'],
      ['POST', '/admin/connections/', '/refresh'],
      ['DELETE', '/admin/clients/'],
      ['GET', '/admin/connections?status='],
      ['GET', '/admin/connections?limit='],
      ['GET', '/admin/connections?offset=0&integration='],
      ['GET', '/admin/audit?since='],
      ['GET', '/admin/audit?limit='],
    );
    await fc.assert(
      fc.asyncProperty(routes, segment, async ([method, prefix, suffix = ''], value) => {
        const path = `${prefix}${encodeURIComponent(value)}${suffix}`;
        const response = await probe(`${method} ${path}`, () => request(broker.url, method, path));
        if (method === 'DELETE' && response.status < 300) throw new Error(`deleted something with ${path}`);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('the OAuth callback', async () => {
    const param = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.string({ minLength: 600, maxLength: 5000 }),
    );
    const query = fc.record(
      { state: param, code: param, error: param, error_description: param, extra: param },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(query, async (params) => {
        const search = new URLSearchParams(params as Record<string, string>).toString();
        const requests = sandbox.stats().tokenRequests.total;
        const response = await probe(`callback ?${search.slice(0, 200)}`, () =>
          request(broker.url, 'GET', `/oauth/callback?${search}`, { token: null }),
        );
        expect(response.status).toBe(400);
        expect(sandbox.stats().tokenRequests.total).toBe(requests);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('the token endpoint', async () => {
    const credential = fc.oneof(
      fc.constant(apiKey),
      fc.string(),
      fc.constant(`tbk_${'a'.repeat(12)}_${'b'.repeat(43)}`),
      fc.constant('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'),
      fc.constant(null),
    );
    const connection = fc.oneof(
      fc.constantFrom('bloom-1', 'pending-1', 'missing'),
      fc.string(),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
    );
    const minValidity = fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: -10, max: 100_000 }).map(String),
      fc.string(),
      fc.constantFrom('1e3', '0x10', '60.5', ' 60', '86401', ''),
    );
    await fc.assert(
      fc.asyncProperty(credential, connection, minValidity, async (key, conn, min) => {
        const search = min === undefined ? '' : `?minValidity=${encodeURIComponent(min)}`;
        const headers: Record<string, string> = {};
        if (key !== null) headers.authorization = /^[\x20-\x7e]*$/.test(key) ? `Bearer ${key}` : 'Bearer x';
        const response = await probe(`tokens ${conn} ${search}`, () =>
          request(broker.url, 'GET', `/tokens/${encodeURIComponent(conn)}${search}`, {
            token: null,
            headers,
          }),
        );
        expect([200, 400, 401, 403, 404, 409]).toContain(response.status);
        if (response.status === 200) expect(key).toBe(apiKey);
      }),
      { numRuns: RUNS * 3 },
    );
  });
});
