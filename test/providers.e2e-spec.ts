import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, startBroker } from './support/broker-process';
import { createTestDatabase, query } from './support/test-database';
import { admin, getToken, request } from './support/http';
import {
  authorizeAtSandbox,
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
} from './support/provider-flows';

const TIMEOUT_MS = 1_500;

describe('provider protocols through the broker against the sandbox', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let api: ReturnType<typeof admin>;
  let apiKey: string;

  const callback = (url: string) => request(broker.url, 'GET', url.slice(broker.url.length), { token: null });
  const me = (accessToken: string) =>
    fetch(`${sandboxUrl}/bloomerang/v2/me`, { headers: { authorization: `Bearer ${accessToken}` } });

  beforeAll(async () => {
    db = await createTestDatabase('providers');
    sandbox = createSandbox({ autoApprove: true });
    sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/4',
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
      BROKER_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    api = admin(broker.url);
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  beforeEach(() => sandbox.configure({ fault: 'none', tokenLatencyMs: 0 }));

  describe('Bloomerang, authorization code', () => {
    let callbackUrl: string;

    it('shows the redirect URI to register and builds the authorization URL the seed describes', async () => {
      const integration = (await api.get('/admin/integrations/bloomerang')).body;
      expect(integration.redirectUri).toBe(`${broker.url}/oauth/callback`);
      const created = await api.post('/admin/connections', { key: 'acme', integration: 'bloomerang' });
      expect(created.body.status).toBe('pending_authorization');
      const url = new URL(created.body.authorizationUrl);
      expect(`${url.origin}${url.pathname}`).toBe(`${sandboxUrl}/bloomerang/Authorize`);
      expect(url.searchParams.get('response_type')).toBe('code');
      expect(url.searchParams.get('client_id')).toBe(SANDBOX_CLIENTS.bloomerang.clientId);
      expect(url.searchParams.get('redirect_uri')).toBe(`${broker.url}/oauth/callback`);
      expect(Buffer.from(url.searchParams.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(16);
      expect(Date.parse(created.body.authorizationExpiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);

      callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
      const done = await callback(callbackUrl);
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ connection: 'acme', status: 'active' });
      expect((await api.get('/admin/connections/acme')).body).toMatchObject({
        status: 'active',
        scope: 'OrgAdmin',
      });
    });

    it('hands a token the provider accepts', async () => {
      const token = await getToken(broker.url, apiKey, 'acme');
      expect(token.status).toBe(200);
      expect(token.headers.get('cache-control')).toBe('no-store');
      expect(token.body).toMatchObject({ tokenType: 'Bearer', scope: 'OrgAdmin' });
      expect((await me(token.body.accessToken)).status).toBe(200);
    });

    it('refuses a replayed callback without sending the code to the provider again', async () => {
      const codeUses = sandbox.stats().codeUses;
      const replay = await callback(callbackUrl);
      expect(replay.status).toBe(400);
      expect(replay.body).toMatchObject({ statusCode: 400, error: 'invalid_state' });
      expect(replay.body.message).toContain('already used');
      expect(sandbox.stats().codeUses).toBe(codeUses);
      expect(sandbox.stats().codeReuses).toBe(0);
      expect((await getToken(broker.url, apiKey, 'acme')).status).toBe(200); // the connection is intact
    });

    it('refuses forged and expired states before reaching the provider', async () => {
      const requests = sandbox.stats().tokenRequests.total;
      const forged = await request(broker.url, 'GET', '/oauth/callback?code=abc&state=forged-state', {
        token: null,
      });
      expect(forged.status).toBe(400);
      expect(forged.body.message).toContain('unknown state');
      expect((await request(broker.url, 'GET', '/oauth/callback?code=abc', { token: null })).status).toBe(
        400,
      );

      const created = await api.post('/admin/connections', { key: 'late', integration: 'bloomerang' });
      const lateCallback = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
      await query(db.url, `UPDATE oauth_states SET expires_at = now() - interval '1 second'`);
      const expired = await callback(lateCallback);
      expect(expired.status).toBe(400);
      expect(expired.body.message).toContain('expired');
      expect(sandbox.stats().tokenRequests.total).toBe(requests);
    });

    it('records a denial on the connection and leaves it inactive', async () => {
      const created = await api.post('/admin/connections', { key: 'denied', integration: 'bloomerang' });
      const denial = await authorizeAtSandbox(created.body.authorizationUrl, broker.url, 'deny');
      expect(new URL(denial).searchParams.get('error')).toBe('access_denied');
      const answer = await callback(denial);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toContain('access_denied');
      const connection = (await api.get('/admin/connections/denied')).body;
      expect(connection.status).toBe('error');
      expect(connection.lastError).toContain('access_denied');
      // Never authorized: the only way forward is an authorization.
      const token = await getToken(broker.url, apiKey, 'denied');
      expect(token.status).toBe(409);
      expect(token.body.error).toBe('needs_reauthorization');
    });

    it('rotates refresh tokens without ever using one twice', async () => {
      const uses = sandbox.stats().refreshTokenUses;
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        expect((await api.post('/admin/connections/acme/refresh')).status).toBe(200);
        const token = (await getToken(broker.url, apiKey, 'acme')).body.accessToken;
        seen.add(token);
        expect((await me(token)).status).toBe(200);
      }
      expect(seen.size).toBe(5);
      expect(sandbox.stats().refreshTokenUses).toBe(uses + 5);
      expect(sandbox.stats().refreshTokenReuses).toBe(0);
      const connection = (await api.get('/admin/connections/acme')).body;
      expect(Date.parse(connection.refreshTokenExpiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    });

    it('re-authorizes an active connection', async () => {
      const again = await api.post('/admin/connections/acme/authorize');
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('active');
      const before = (await getToken(broker.url, apiKey, 'acme')).body.accessToken;
      expect((await callback(await authorizeAtSandbox(again.body.authorizationUrl, broker.url))).status).toBe(
        200,
      );
      const after = (await getToken(broker.url, apiKey, 'acme')).body.accessToken;
      expect(after).not.toBe(before);
      expect((await me(after)).status).toBe(200);
    });
  });

  describe('Bloom, client credentials', () => {
    it.each([
      ['v2', { scopes: ['data-access:all', 'furnishment:all'] }, 'data-access:all furnishment:all'],
      [
        'v1',
        { authVersion: 'v1', scopes: undefined, tokenUrl: undefined },
        'data-access:all furnishment:all',
      ],
    ])('%s: active at creation, the token fetched once and reused', async (version, overrides, scope) => {
      const tokenUrl = `${sandboxUrl}/bloom/${version === 'v1' ? 'oauth' : 'oauth2'}/token`;
      expect(
        (await createBloomIntegration(broker.url, sandboxUrl, `bloom-${version}`, { ...overrides, tokenUrl }))
          .status,
      ).toBe(201);
      const before = sandbox.stats().tokenRequests.byProvider.bloom.client_credentials ?? 0;
      const created = await api.post('/admin/connections', {
        key: `credit-${version}`,
        integration: `bloom-${version}`,
      });
      expect(created.body).toMatchObject({ status: 'active', scope });
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => getToken(broker.url, apiKey, `credit-${version}`)),
      );
      expect(new Set(tokens.map((t) => t.body.accessToken)).size).toBe(1);
      expect(sandbox.stats().tokenRequests.byProvider.bloom.client_credentials).toBe(before + 1);
      const resource = await fetch(`${sandboxUrl}/bloom/v2/resource`, {
        headers: { authorization: `Bearer ${tokens[0].body.accessToken}` },
      });
      expect(resource.status).toBe(200);
    });

    it.each([
      ['a wrong audience', { audience: 'prod-api.bloom.example' }, 'none', /audience|access_denied/],
      ['a wrong secret', { clientSecret: 'not-the-secret' }, 'none', /invalid_client/],
      ['an HTML 500', {}, 'html500', /HTTP 500 with an HTML page/],
      ['invalid JSON', {}, 'invalidJson', /not a valid token response/],
      ['a hanging token endpoint', {}, 'hang', /did not answer within 1500 ms/],
    ])(
      'ends %s as a connection error within the timeout, the broker staying healthy',
      async (_, overrides, fault, message) => {
        const key = `bad-${Math.random().toString(36).slice(2, 8)}`;
        expect((await createBloomIntegration(broker.url, sandboxUrl, key, overrides)).status).toBe(201);
        sandbox.configure({ fault: fault as 'none', faultProvider: 'bloom' });
        const started = Date.now();
        const created = await api.post('/admin/connections', { key, integration: key });
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_500);
        expect(created.status).toBe(201);
        expect(created.body.status).toBe('error');
        expect(created.body.lastError).toMatch(message);
        expect(created.body.lastErrorCode).toEqual(expect.any(String));
        expect(created.text).not.toContain('not-the-secret');
        expect(created.text).not.toContain(SANDBOX_CLIENTS.bloom.clientSecret);
        sandbox.configure({ fault: 'none' });
        expect((await request(broker.url, 'GET', '/health/live', { token: null })).status).toBe(200);
        expect((await request(broker.url, 'GET', '/health/ready', { token: null })).status).toBe(200);
        const token = await getToken(broker.url, apiKey, key, 0);
        expect([200, 503]).toContain(token.status); // a fixed provider may answer the retry
        if (token.status === 503)
          expect(token.body).toMatchObject({ statusCode: 503, error: expect.any(String) });
      },
    );
  });

  it('serves a generic OAuth 2.0 client-credentials provider with client_secret_post', async () => {
    const created = await api.post('/admin/integrations', {
      key: 'generic',
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: `${sandboxUrl}/generic/token`,
      tokenAuthMethod: 'client_secret_post',
      clientId: SANDBOX_CLIENTS.generic.clientId,
      clientSecret: SANDBOX_CLIENTS.generic.clientSecret,
      scopes: ['read'],
    });
    expect(created.status).toBe(201);
    expect(
      (await api.post('/admin/connections', { key: 'generic-1', integration: 'generic' })).body.status,
    ).toBe('active');
    const token = await getToken(broker.url, apiKey, 'generic-1');
    const resource = await fetch(`${sandboxUrl}/generic/resource`, {
      headers: { authorization: `Bearer ${token.body.accessToken}` },
    });
    expect(resource.status).toBe(200);
  });

  it('runs the generic authorization code flow with client_secret_basic', async () => {
    await api.post('/admin/integrations', {
      key: 'generic-code',
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: `${sandboxUrl}/generic/authorize`,
      tokenUrl: `${sandboxUrl}/generic/token`,
      clientId: SANDBOX_CLIENTS.generic.clientId,
      clientSecret: SANDBOX_CLIENTS.generic.clientSecret,
      scopes: ['read', 'write'],
    });
    await connectBloomerang(broker.url, 'generic-code', 'generic-user');
    expect((await api.post('/admin/connections/generic-user/refresh')).status).toBe(200);
    expect((await getToken(broker.url, apiKey, 'generic-user')).status).toBe(200);
  });
});
