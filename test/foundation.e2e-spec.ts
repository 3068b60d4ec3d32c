import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BrokerProcess, brokerEnv, runBrokerToExit, startBroker } from './support/broker-process';
import { createTestDatabase, query } from './support/test-database';
import { admin, request } from './support/http';

const SECRET = 'bloomerang-client-secret-that-must-never-leak';

describe('foundation: a started broker over HTTP', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let broker: BrokerProcess;
  let api: ReturnType<typeof admin>;

  beforeAll(async () => {
    db = await createTestDatabase('foundation');
    broker = await startBroker({ DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379/1' });
    api = admin(broker.url);
  });

  afterAll(async () => {
    await broker?.stop();
    await db?.drop();
  });

  it('refuses to start without BROKER_ENCRYPTION_KEYS, naming it in one line', async () => {
    const { code, output } = await runBrokerToExit(
      brokerEnv({ BROKER_ENCRYPTION_KEYS: undefined, DATABASE_URL: db.url, PORT: '0' }),
    );
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain('BROKER_ENCRYPTION_KEYS is required');
  });

  it('refuses to start with a malformed key or a short admin token', async () => {
    const badKey = await runBrokerToExit(brokerEnv({ BROKER_ENCRYPTION_KEYS: 'k1:dG9vc2hvcnQ=', PORT: '0' }));
    expect(badKey.code).toBe(1);
    expect(badKey.output).toContain('BROKER_ENCRYPTION_KEYS');
    const shortToken = await runBrokerToExit(brokerEnv({ BROKER_ADMIN_TOKEN: 'short', PORT: '0' }));
    expect(shortToken.code).toBe(1);
    expect(shortToken.output).toContain('BROKER_ADMIN_TOKEN');
  });

  it('answers health, readiness and metrics', async () => {
    expect((await request(broker.url, 'GET', '/health/live', { token: null })).status).toBe(200);
    const ready = await request(broker.url, 'GET', '/health/ready', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.info.postgres.status).toBe('up');
    expect(ready.body.info.redis.status).toBe('up');
    const metrics = await request(broker.url, 'GET', '/metrics', { token: null });
    expect(metrics.text).toContain('broker_token_requests_total');
  });

  it('guards the admin API with the admin token', async () => {
    const none = await request(broker.url, 'GET', '/admin/integrations', { token: null });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ statusCode: 401, error: 'unauthorized', message: expect.any(String) });
    expect((await request(broker.url, 'GET', '/admin/integrations', { token: 'wrong' })).status).toBe(401);
  });

  it('creates, reads, updates and deletes integrations without ever returning the secret', async () => {
    const created = await api.post('/admin/integrations', {
      key: 'bloomerang-crud',
      provider: 'bloomerang',
      clientId: 'client-1',
      clientSecret: SECRET,
      scopes: ['OrgAdmin'],
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      key: 'bloomerang-crud',
      provider: 'bloomerang',
      hasClientSecret: true,
      grantType: 'authorization_code',
      tokenUrl: 'https://api.bloomerang.co/v2/oauth/token',
      authorizationUrl: 'https://crm.bloomerang.co/Authorize',
      redirectUri: 'http://localhost:3000/oauth/callback',
    });
    expect(created.text).not.toContain(SECRET);

    const duplicate = await api.post('/admin/integrations', {
      key: 'bloomerang-crud',
      provider: 'bloomerang',
      clientId: 'c',
      clientSecret: 's',
    });
    expect(duplicate.status).toBe(409);

    const patched = await api.patch('/admin/integrations/bloomerang-crud', {
      clientSecret: 'rotated-secret-value',
    });
    expect(patched.status).toBe(200);
    expect(patched.text).not.toContain('rotated-secret-value');

    const list = await api.get('/admin/integrations');
    expect(list.body.map((i: { key: string }) => i.key)).toContain('bloomerang-crud');
    expect(list.text).not.toContain(SECRET);
    expect((await api.get('/admin/integrations/bloomerang-crud')).status).toBe(200);
    expect((await api.delete('/admin/integrations/bloomerang-crud')).status).toBe(204);
    expect((await api.get('/admin/integrations/bloomerang-crud')).status).toBe(404);
  });

  it.each([
    [{ provider: 'bloomerang', clientId: 'c', clientSecret: 's' }, 'key'],
    [{ key: 'Bad Key', provider: 'bloomerang', clientId: 'c', clientSecret: 's' }, 'key must be'],
    [{ key: 'x1', provider: 'nope', clientId: 'c', clientSecret: 's' }, 'provider'],
    [{ key: 'x2', provider: 'bloomerang', clientId: 'c' }, 'clientSecret'],
    [
      { key: 'x3', provider: 'bloomerang', clientId: 'c', clientSecret: 's', extra: 1 },
      'extra is not a known field',
    ],
    [
      { key: 'x4', provider: 'bloomerang', clientId: 'c', clientSecret: 's', scopes: ['Everything'] },
      'scope',
    ],
    [
      { key: 'x5', provider: 'bloom', clientId: 'c', clientSecret: 's', scopes: ['data-access:all'] },
      'audience',
    ],
    [
      { key: 'x6', provider: 'oauth2', clientId: 'c', clientSecret: 's', grantType: 'client_credentials' },
      'tokenUrl',
    ],
    [
      {
        key: 'x7',
        provider: 'oauth2',
        clientId: 'c',
        clientSecret: 's',
        grantType: 'client_credentials',
        tokenUrl: 'http://auth.example.com/token',
      },
      'https',
    ],
  ])('refuses an invalid integration %#, naming %s', async (body, field) => {
    const response = await api.post('/admin/integrations', body);
    expect(response.status).toBe(400);
    expect(response.body.error).toBe('bad_request');
    expect(response.body.message).toContain(field);
    expect(response.text).not.toContain('"s"');
  });

  it('answers malformed JSON and unknown routes with a clear 4xx', async () => {
    const malformed = await request(broker.url, 'POST', '/admin/integrations', {
      body: '{"key":',
      headers: {},
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ statusCode: 400, message: expect.any(String) });
    const unknown = await api.get('/admin/nothing-here');
    expect(unknown.status).toBe(404);
  });

  it('manages clients: the API key is shown once and stored only as a hash', async () => {
    const created = await api.post('/admin/clients', { name: 'billing', connections: ['*'] });
    expect(created.status).toBe(201);
    const apiKey: string = created.body.apiKey;
    expect(apiKey).toMatch(/^tbk_/);
    const list = await api.get('/admin/clients');
    expect(list.text).not.toContain(apiKey);
    const rows = await query<{ api_key_hash: string }>(db.url, 'SELECT api_key_hash FROM clients');
    expect(JSON.stringify(rows)).not.toContain(apiKey);
    expect((await api.post('/admin/clients', { name: 'x', connections: [] })).status).toBe(400);
    expect((await api.post('/admin/clients', { name: 'x', connections: ['*', 'a'] })).status).toBe(400);
    expect((await api.delete(`/admin/clients/${created.body.id}`)).status).toBe(204);
    expect((await api.delete(`/admin/clients/${created.body.id}`)).status).toBe(404);
    expect((await api.delete('/admin/clients/not-a-uuid')).status).toBe(404);
  });

  it('manages connection records and refuses unknown integrations', async () => {
    await api.post('/admin/integrations', {
      key: 'bloomerang-conn',
      provider: 'bloomerang',
      clientId: 'client-1',
      clientSecret: SECRET,
    });
    const created = await api.post('/admin/connections', { key: 'acme', integration: 'bloomerang-conn' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      key: 'acme',
      integration: 'bloomerang-conn',
      status: 'pending_authorization',
    });
    expect(created.body.authorizationUrl).toContain('https://crm.bloomerang.co/Authorize?');
    expect(
      (await api.post('/admin/connections', { key: 'acme', integration: 'bloomerang-conn' })).status,
    ).toBe(409);
    expect((await api.post('/admin/connections', { key: 'other', integration: 'missing' })).status).toBe(400);
    const filtered = await api.get(
      '/admin/connections?status=pending_authorization&integration=bloomerang-conn',
    );
    expect(filtered.body.map((c: { key: string }) => c.key)).toEqual(['acme']);
    expect((await api.get('/admin/connections?status=bogus')).status).toBe(400);
    expect((await api.delete('/admin/integrations/bloomerang-conn')).status).toBe(409);
    expect((await api.delete('/admin/connections/acme')).status).toBe(204);
    expect((await api.get('/admin/connections/acme')).status).toBe(404);
  });

  it('serves Swagger UI and an OpenAPI document equal to the committed one', async () => {
    const ui = await request(broker.url, 'GET', '/docs', { token: null });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    const live = await request(broker.url, 'GET', '/docs-json', { token: null });
    expect(live.body.components.securitySchemes).toEqual(
      expect.objectContaining({ admin: expect.objectContaining({ scheme: 'bearer' }) }),
    );
    const committed = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));
    expect(live.body).toEqual(committed);
  });

  it('sends the headers of an admin page: a CSP Swagger UI works under, nosniff, no framing', async () => {
    for (const path of [
      '/docs',
      '/docs/swagger-ui-init.js',
      '/docs-json',
      '/admin/integrations',
      '/health/live',
    ]) {
      const response = await request(broker.url, 'GET', path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      const csp = directives(response.headers.get('content-security-policy'));
      expect(csp).toEqual(
        expect.objectContaining({
          'default-src': ["'self'"],
          'script-src': ["'self'"],
          'style-src': ["'self'", "'unsafe-inline'"],
          'img-src': ["'self'", 'data:'],
          'connect-src': ["'self'"],
          'object-src': ["'none'"],
          'frame-ancestors': ["'none'"],
        }),
      );
      expect(csp).not.toHaveProperty('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    // An error answer carries them too.
    const unauthorized = await request(broker.url, 'GET', '/admin/clients', { token: null });
    expect(unauthorized.status).toBe(401);
    expect(directives(unauthorized.headers.get('content-security-policy'))['frame-ancestors']).toEqual([
      "'none'",
    ]);
  });

  it('sends nosniff on the token path, answers and errors, and none of the page headers of helmet', async () => {
    const client = await api.post('/admin/clients', { name: 'headers', connections: ['*'] });
    expect(client.status).toBe(201);
    for (const [token, status] of [
      [null, 401],
      [client.body.apiKey, 404],
    ] as const) {
      const response = await request(broker.url, 'GET', '/tokens/no-such-connection', { token });
      expect(response.status).toBe(status);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      // Helmet's set is not computed on this route: a JSON answer to services, on the hot path.
      expect(response.headers.get('content-security-policy')).toBeNull();
      expect(response.headers.get('cross-origin-opener-policy')).toBeNull();
    }
    expect((await api.delete(`/admin/clients/${client.body.id}`)).status).toBe(204);
  });

  it('keeps every secret out of a plain-SQL dump of the database', async () => {
    const dump = execFileSync('pg_dump', ['--data-only', '--inserts', db.url], { encoding: 'utf8' });
    expect(dump).toContain('bloomerang-conn');
    expect(dump).not.toContain(SECRET);
    expect(dump).not.toContain('rotated-secret-value');
  });

  it('exits 0 on SIGTERM', async () => {
    const second = await startBroker({ DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379/1' });
    expect(await second.stop('SIGTERM')).toBe(0);
  });
});

/** A Content-Security-Policy header as directive name → sources. */
function directives(header: string | null): Record<string, string[]> {
  expect(header).toBeTruthy();
  return Object.fromEntries(
    header!
      .split(';')
      .map((part) => part.trim().split(/\s+/))
      .filter(([name]) => name)
      .map(([name, ...sources]) => [name, sources]),
  );
}
