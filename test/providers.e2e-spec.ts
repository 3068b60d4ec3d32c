import { createSandbox, FaultMode, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, query } from './support/test-database';
import { admin, getToken, JsonResponse, request } from './support/http';
import {
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
} from './support/provider-flows';

const TIMEOUT_MS = 1_500;
const WRONG_SECRET = 'not-the-bloom-secret-0123456789';
/**
 * A Bloomerang client whose id and secret are full of the characters percent-encoding would touch
 * (and a ":" in the secret, which raw Basic carries): the sandbox takes them literally.
 */
const MARKED_BLOOMERANG = {
  provider: 'bloomerang',
  clientId: 'blm-client_0.1~a-9f2c-4e1d.b~c_d',
  clientSecret: 'blm-secret:9fK2qW_x.y~z-0123~456_789.abc',
} as const;

/** What the sandbox saw a token endpoint receive, recorded by a hook on the sandbox itself. */
interface WireRecord {
  path: string;
  authorization?: string;
  form: Record<string, string>;
}

describe('provider protocols through the broker against the sandbox', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let publicUrl: string;
  let api: ReturnType<typeof admin>;
  let apiKey: string;
  const wire: WireRecord[] = [];

  const get = (path: string) => request(broker.url, 'GET', path, { token: null });
  const me = (accessToken: string) =>
    fetch(`${sandboxUrl}/bloomerang/v2/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  const secrets = [
    SANDBOX_CLIENTS.bloomerang.clientSecret,
    SANDBOX_CLIENTS.bloom.clientSecret,
    SANDBOX_CLIENTS.generic.clientSecret,
    MARKED_BLOOMERANG.clientSecret,
    WRONG_SECRET,
  ];
  const expectNoSecret = (...responses: JsonResponse[]) => {
    for (const response of responses)
      for (const secret of secrets) expect(response.text).not.toContain(secret);
  };

  /**
   * Plays the account's user at the sandbox's authorization page and returns where the sandbox sends
   * the browser back: that must be the broker's own callback, since BROKER_PUBLIC_URL is the broker.
   */
  async function decideAtSandbox(authorizationUrl: string, decision: 'approve' | 'deny'): Promise<string> {
    const response = await fetch(`${authorizationUrl}&sandbox_decision=${decision}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = response.headers.get('location')!;
    expect(location.startsWith(`${publicUrl}/oauth/callback?`)).toBe(true);
    return location;
  }

  async function authorize(key: string): Promise<string> {
    const created = await api.post('/admin/connections', { key, integration: 'bloomerang' });
    expect(created.status).toBe(201);
    return created.body.authorizationUrl;
  }

  beforeAll(async () => {
    db = await createTestDatabase('providers');
    sandbox = createSandbox({ clients: [...Object.values(SANDBOX_CLIENTS), MARKED_BLOOMERANG] });
    sandbox.app.addHook('preHandler', async (req) => {
      if (!req.url.endsWith('/token')) return;
      wire.push({
        path: req.url,
        authorization: req.headers.authorization,
        form: { ...((req.body as Record<string, string>) ?? {}) },
      });
    });
    sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/4',
      BROKER_PUBLIC_URL: publicUrl,
      BROKER_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
      // No background retries of the failed connections below while later tests count token requests.
      BROKER_RECONCILE_INTERVAL_SECONDS: '3600',
    });
    expect(broker.url).toBe(publicUrl);
    api = admin(broker.url);
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  beforeEach(() => {
    sandbox.configure({ fault: 'none', tokenLatencyMs: 0 });
    wire.length = 0;
  });

  describe('Bloomerang, authorization code', () => {
    let callbackUrl: string;

    it('runs the full flow: authorization URL, approval, callback on the broker, an active connection', async () => {
      const integration = await api.get('/admin/integrations/bloomerang');
      expect(integration.body.redirectUri).toBe(`${publicUrl}/oauth/callback`);
      expectNoSecret(integration);

      const created = await api.post('/admin/connections', { key: 'acme', integration: 'bloomerang' });
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('pending_authorization');
      expectNoSecret(created);
      const url = new URL(created.body.authorizationUrl);
      expect(`${url.origin}${url.pathname}`).toBe(`${sandboxUrl}/bloomerang/Authorize`);
      expect(url.searchParams.get('response_type')).toBe('code');
      expect(url.searchParams.get('client_id')).toBe(SANDBOX_CLIENTS.bloomerang.clientId);
      expect(url.searchParams.get('redirect_uri')).toBe(`${publicUrl}/oauth/callback`);
      const state = url.searchParams.get('state')!;
      expect(state).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(state, 'base64url').length).toBeGreaterThanOrEqual(16); // >= 128 bits
      expect(Date.parse(created.body.authorizationExpiresAt) - Date.now()).toBeGreaterThan(9 * 60_000);
      expect(sandbox.stats().tokenRequests.total).toBe(0); // nothing is exchanged before the user decides

      callbackUrl = await decideAtSandbox(created.body.authorizationUrl, 'approve');
      const callback = new URL(callbackUrl);
      expect(callback.searchParams.get('state')).toBe(state);
      expect(callback.searchParams.get('code')).toEqual(expect.any(String));
      const done = await get(callbackUrl.slice(publicUrl.length));
      expect(done.status).toBe(200);
      expect(done.headers.get('cache-control')).toBe('no-store');
      expect(done.body).toMatchObject({ connection: 'acme', status: 'active', message: expect.any(String) });
      expect(done.text).not.toContain(callback.searchParams.get('code')!);
      expect(sandbox.stats().codeUses).toBe(1);

      // The code went to the token endpoint with HTTP Basic and the exact redirect_uri of the URL.
      const exchange = wire.find((record) => record.form.grant_type === 'authorization_code')!;
      expect(exchange.path).toBe('/bloomerang/v2/oauth/token');
      expect(exchange.authorization).toMatch(/^Basic /);
      expect(exchange.form).toEqual({
        grant_type: 'authorization_code',
        code: callback.searchParams.get('code'),
        redirect_uri: `${publicUrl}/oauth/callback`,
      });

      const connection = await api.get('/admin/connections/acme');
      expect(connection.body).toMatchObject({ status: 'active', scope: 'OrgAdmin', lastError: null });
      expect(Date.parse(connection.body.expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
      expectNoSecret(connection);
    });

    it('hands the client a token the provider accepts', async () => {
      const token = await getToken(broker.url, apiKey, 'acme');
      expect(token.status).toBe(200);
      expect(token.headers.get('cache-control')).toBe('no-store');
      expect(token.body).toMatchObject({ tokenType: 'Bearer', scope: 'OrgAdmin' });
      expect(token.body.expiresIn).toBeGreaterThan(3_500);
      const resource = await me(token.body.accessToken);
      expect(resource.status).toBe(200);
      expect(await resource.json()).toMatchObject({ scope: 'OrgAdmin' });
      expect((await me('not-a-token')).status).toBe(401); // the check above can fail
    });

    it('refuses a replayed callback without sending the code to the provider again', async () => {
      const before = sandbox.stats();
      const replay = await get(callbackUrl.slice(publicUrl.length));
      expect(replay.status).toBe(400);
      expect(replay.body).toEqual({ statusCode: 400, error: 'invalid_state', message: expect.any(String) });
      expect(replay.body.message).toMatch(/already used/);
      const after = sandbox.stats();
      expect(after.codeUses).toBe(before.codeUses);
      expect(after.codeReuses).toBe(0);
      expect(after.tokenRequests.total).toBe(before.tokenRequests.total);
      const token = await getToken(broker.url, apiKey, 'acme');
      expect(token.status).toBe(200); // the replay did not revoke anything
      expect((await me(token.body.accessToken)).status).toBe(200);
    });

    it('refuses a forged state, a missing state and an expired state, none reaching the provider', async () => {
      const requests = sandbox.stats().tokenRequests.total;
      const forged = await get('/oauth/callback?code=abc&state=forged-state-value');
      expect(forged.status).toBe(400);
      expect(forged.body).toMatchObject({ statusCode: 400, error: 'invalid_state' });
      expect(forged.body.message).toMatch(/unknown state/);
      const missing = await get('/oauth/callback?code=abc');
      expect(missing.status).toBe(400);
      expect(missing.body.message).toMatch(/state/);

      const lateUrl = await authorize('late');
      const lateCallback = await decideAtSandbox(lateUrl, 'approve');
      await query(
        db.url,
        `UPDATE oauth_states SET expires_at = now() - interval '1 second'
          WHERE connection_id = (SELECT id FROM connections WHERE key = 'late')`,
      );
      const expired = await get(lateCallback.slice(publicUrl.length));
      expect(expired.status).toBe(400);
      expect(expired.body).toMatchObject({ statusCode: 400, error: 'invalid_state' });
      expect(expired.body.message).toMatch(/expired/);
      expect(sandbox.stats().tokenRequests.total).toBe(requests);
      expect((await api.get('/admin/connections/late')).body.status).toBe('pending_authorization');
    });

    it('records a denial on the connection and leaves it inactive', async () => {
      const denial = await decideAtSandbox(await authorize('denied'), 'deny');
      expect(new URL(denial).searchParams.get('error')).toBe('access_denied');
      expect(new URL(denial).searchParams.has('code')).toBe(false);
      const answer = await get(denial.slice(publicUrl.length));
      expect(answer.status).toBe(400);
      expect(answer.body).toMatchObject({ statusCode: 400, error: expect.any(String) });
      expect(answer.body.message).toContain('access_denied');
      const connection = (await api.get('/admin/connections/denied')).body;
      expect(connection.status).not.toBe('active');
      expect(connection.lastError).toContain('access_denied');
      expect(wire).toHaveLength(0); // a denial has nothing to exchange
      const token = await getToken(broker.url, apiKey, 'denied');
      expect(token.status).toBe(409);
      expect(token.body).toMatchObject({ statusCode: 409, error: 'needs_reauthorization' });
      // The state is spent by the denial as well.
      expect((await get(denial.slice(publicUrl.length))).status).toBe(400);
    });

    it('records a code the provider refuses, with the state spent', async () => {
      const approved = new URL(await decideAtSandbox(await authorize('bad-code'), 'approve'));
      approved.searchParams.set('code', 'a-code-the-provider-never-issued');
      const answer = await get(`${approved.pathname}${approved.search}`);
      expect(answer.status).toBe(400);
      expect(answer.body.message).toMatch(/could not be exchanged.*invalid_grant/);
      expect(answer.text).not.toContain('a-code-the-provider-never-issued');
      const connection = (await api.get('/admin/connections/bad-code')).body;
      expect(connection.status).toBe('error');
      expect(connection.lastError).toMatch(/invalid_grant/);
      expect(connection.lastErrorCode).toBe('needs_reauthorization');
      expect(sandbox.stats().codeReuses).toBe(0);
    });

    it('rotates refresh tokens on forced refreshes without ever using one twice', async () => {
      const uses = sandbox.stats().refreshTokenUses;
      const seen = new Set<string>([(await getToken(broker.url, apiKey, 'acme')).body.accessToken]);
      let lastRefreshedAt = 0;
      for (let i = 0; i < 4; i++) {
        const refreshed = await api.post('/admin/connections/acme/refresh');
        expect(refreshed.status).toBe(200);
        expect(refreshed.body).toMatchObject({ key: 'acme', status: 'active' });
        expect(Date.parse(refreshed.body.lastRefreshedAt)).toBeGreaterThan(lastRefreshedAt);
        lastRefreshedAt = Date.parse(refreshed.body.lastRefreshedAt);
        expectNoSecret(refreshed);
        const token = await getToken(broker.url, apiKey, 'acme');
        expect(token.status).toBe(200);
        expect(seen.has(token.body.accessToken)).toBe(false);
        seen.add(token.body.accessToken);
        expect((await me(token.body.accessToken)).status).toBe(200);
      }
      const stats = sandbox.stats();
      expect(stats.refreshTokenUses).toBe(uses + 4);
      expect(stats.refreshTokenReuses).toBe(0);
      expect(stats.revokedChains).toBe(0);
      // Each refresh sent the newest refresh token with HTTP Basic, and no scope.
      const refreshes = wire.filter((record) => record.form.grant_type === 'refresh_token');
      expect(refreshes).toHaveLength(4);
      expect(new Set(refreshes.map((record) => record.form.refresh_token)).size).toBe(4);
      for (const record of refreshes) {
        expect(record.authorization).toMatch(/^Basic /);
        expect(Object.keys(record.form).sort()).toEqual(['grant_type', 'refresh_token']);
      }
      const connection = (await api.get('/admin/connections/acme')).body;
      expect(Date.parse(connection.refreshTokenExpiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    });

    it('re-authorizes an active connection, which keeps working meanwhile and after a denial', async () => {
      const before = (await getToken(broker.url, apiKey, 'acme')).body.accessToken;
      const denied = await api.post('/admin/connections/acme/authorize');
      expect(denied.status).toBe(200);
      expect(denied.body.status).toBe('active');
      expect(new URL(denied.body.authorizationUrl).searchParams.get('state')).not.toBe(
        new URL(callbackUrl).searchParams.get('state'),
      );
      expect(
        (await get((await decideAtSandbox(denied.body.authorizationUrl, 'deny')).slice(publicUrl.length)))
          .status,
      ).toBe(400);
      expect((await api.get('/admin/connections/acme')).body.status).toBe('active');
      expect((await getToken(broker.url, apiKey, 'acme')).status).toBe(200);

      const again = await api.post('/admin/connections/acme/authorize');
      const codeUses = sandbox.stats().codeUses;
      const done = await get(
        (await decideAtSandbox(again.body.authorizationUrl, 'approve')).slice(publicUrl.length),
      );
      expect(done.status).toBe(200);
      expect(done.body).toMatchObject({ connection: 'acme', status: 'active' });
      expect(sandbox.stats().codeUses).toBe(codeUses + 1);
      const after = (await getToken(broker.url, apiKey, 'acme')).body.accessToken;
      expect(after).not.toBe(before);
      expect((await me(after)).status).toBe(200);
      // The new grant's refresh token works too.
      expect((await api.post('/admin/connections/acme/refresh')).status).toBe(200);
      expect(sandbox.stats().refreshTokenReuses).toBe(0);
    });
  });

  describe('Bloom, client credentials', () => {
    it.each([
      ['v2', '/bloom/oauth2/token', { scopes: ['data-access:all', 'furnishment:all'] }, true],
      ['v1', '/bloom/oauth/token', { authVersion: 'v1', scopes: undefined }, false],
    ])(
      '%s: active at creation, the token fetched once and reused until it lacks validity',
      async (version, path, overrides, sendsScope) => {
        const key = `bloom-${version}`;
        const integration = await createBloomIntegration(broker.url, sandboxUrl, key, {
          ...overrides,
          tokenUrl: `${sandboxUrl}${path}`,
        });
        expect(integration.status).toBe(201);
        expectNoSecret(integration);
        const count = () => sandbox.stats().tokenRequests.byProvider.bloom.client_credentials ?? 0;
        const before = count();
        const created = await api.post('/admin/connections', { key: `credit-${version}`, integration: key });
        expect(created.status).toBe(201);
        expect(created.body).toMatchObject({ status: 'active', scope: 'data-access:all furnishment:all' });
        expect(count()).toBe(before + 1);
        expect(wire).toHaveLength(1);
        expect(wire[0].path).toBe(path);
        expect(wire[0].authorization).toBeUndefined();
        expect(wire[0].form).toMatchObject({
          grant_type: 'client_credentials',
          client_id: SANDBOX_CLIENTS.bloom.clientId,
          audience: SANDBOX_CLIENTS.bloom.audience,
        });
        expect('scope' in wire[0].form).toBe(sendsScope);

        const together = await Promise.all(
          Array.from({ length: 20 }, () => getToken(broker.url, apiKey, `credit-${version}`)),
        );
        const one: JsonResponse[] = [];
        for (let i = 0; i < 20; i++) one.push(await getToken(broker.url, apiKey, `credit-${version}`, 3_600));
        const tokens = [...together, ...one];
        expect(tokens.every((token) => token.status === 200)).toBe(true);
        expect(new Set(tokens.map((token) => token.body.accessToken)).size).toBe(1);
        expect(count()).toBe(before + 1);
        const resource = await fetch(`${sandboxUrl}/bloom/v2/resource`, {
          headers: { authorization: `Bearer ${tokens[0].body.accessToken}` },
        });
        expect(resource.status).toBe(200);

        // Asking for more validity than the token has left fetches a new one, once.
        const longer = await getToken(broker.url, apiKey, `credit-${version}`, 86_400);
        expect(longer.status).toBe(200);
        expect(longer.body.accessToken).not.toBe(tokens[0].body.accessToken);
        expect(count()).toBe(before + 2);
        expect((await getToken(broker.url, apiKey, `credit-${version}`)).body.accessToken).toBe(
          longer.body.accessToken,
        );
        expect(count()).toBe(before + 2);
      },
    );

    it.each<[string, Record<string, unknown>, FaultMode, RegExp, string]>([
      [
        'a wrong audience',
        { audience: 'prod-api.bloom.example' },
        'none',
        /misconfigured.*access_denied.*prod-api\.bloom\.example.*audience/,
        'misconfigured',
      ],
      [
        'a wrong secret',
        { clientSecret: WRONG_SECRET },
        'none',
        /misconfigured.*invalid_client.*client id, secret/,
        'misconfigured',
      ],
      ['an HTML 500', {}, 'html500', /HTTP 500 with an HTML page/, 'transient'],
      ['invalid JSON', {}, 'invalidJson', /not a valid token response/, 'invalid_response'],
      ['a rate limit', {}, 'rateLimited', /rate limiting/, 'transient'],
      ['a hanging token endpoint', {}, 'hang', /did not answer within 1500 ms/, 'transient'],
    ])(
      'ends %s as a connection error within the timeout, the broker staying healthy',
      async (_, overrides, fault, message, code) => {
        const key = `bad-${fault}-${Object.keys(overrides).join('') || 'x'}`.toLowerCase();
        const integration = await createBloomIntegration(broker.url, sandboxUrl, key, overrides);
        expect(integration.status).toBe(201);
        sandbox.configure({ fault, faultProvider: 'bloom' });

        const started = Date.now();
        const creating = api.post('/admin/connections', { key, integration: key });
        // While the provider call is pending (or hanging), the broker answers its probes.
        const live = await get('/health/live');
        const ready = await get('/health/ready');
        const created = await creating;
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 1_500);
        expect(live.status).toBe(200);
        expect(ready.status).toBe(200);

        expect(created.status).toBe(201);
        expect(created.body.status).toBe('error');
        expect(created.body.lastError).toMatch(message);
        expect(created.body.lastErrorCode).toBe(code);
        const connection = await api.get(`/admin/connections/${key}`);
        expect(connection.body).toMatchObject({ status: 'error', lastErrorCode: code });

        // The provider still fails: no token to give, a 503 in the contract's error shape.
        const token = await getToken(broker.url, apiKey, key);
        expect(token.status).toBe(503);
        expect(token.body).toEqual({
          statusCode: 503,
          error: expect.any(String),
          message: expect.any(String),
        });
        expect(token.body.message).toMatch(message);
        if (fault === 'rateLimited') expect(Number(token.headers.get('retry-after'))).toBeGreaterThan(0);
        expectNoSecret(integration, created, connection, token, await api.get('/admin/connections'));
        expect((await get('/health/live')).status).toBe(200);
        expect((await get('/health/ready')).status).toBe(200);

        // Once the provider is fixed, the next token request recovers the connection.
        if (fault !== 'none') {
          sandbox.configure({ fault: 'none' });
          // Readers honour the provider's Retry-After: the next read that may refresh comes after it.
          const retryAfter = Number(token.headers.get('retry-after') ?? 0);
          if (retryAfter > 0) await sleep(retryAfter * 1000);
          expect((await getToken(broker.url, apiKey, key)).status).toBe(200);
          expect((await api.get(`/admin/connections/${key}`)).body).toMatchObject({
            status: 'active',
            lastError: null,
          });
        }
      },
    );
  });

  describe('generic OAuth 2.0', () => {
    it('serves a client-credentials provider with client_secret_post', async () => {
      const created = await api.post('/admin/integrations', {
        key: 'generic',
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: `${sandboxUrl}/generic/token`,
        tokenAuthMethod: 'client_secret_post',
        clientId: SANDBOX_CLIENTS.generic.clientId,
        clientSecret: SANDBOX_CLIENTS.generic.clientSecret,
        scopes: ['read', 'write'],
        extraTokenParams: { resource: 'https://api.example' },
      });
      expect(created.status).toBe(201);
      expectNoSecret(created);
      const connection = await api.post('/admin/connections', { key: 'generic-1', integration: 'generic' });
      expect(connection.body).toMatchObject({ status: 'active', scope: 'read write' });
      expect(wire).toHaveLength(1);
      expect(wire[0].authorization).toBeUndefined();
      expect(wire[0].form).toEqual({
        grant_type: 'client_credentials',
        client_id: SANDBOX_CLIENTS.generic.clientId,
        client_secret: SANDBOX_CLIENTS.generic.clientSecret,
        scope: 'read write',
        resource: 'https://api.example',
      });
      const token = await getToken(broker.url, apiKey, 'generic-1');
      expect(token.status).toBe(200);
      const resource = await fetch(`${sandboxUrl}/generic/resource`, {
        headers: { authorization: `Bearer ${token.body.accessToken}` },
      });
      expect(resource.status).toBe(200);
      expect(await resource.json()).toMatchObject({ clientId: SANDBOX_CLIENTS.generic.clientId });
    });

    it('runs the authorization code flow with client_secret_basic and rotating refresh tokens', async () => {
      expect(
        (
          await api.post('/admin/integrations', {
            key: 'generic-code',
            provider: 'oauth2',
            grantType: 'authorization_code',
            authorizationUrl: `${sandboxUrl}/generic/authorize`,
            tokenUrl: `${sandboxUrl}/generic/token`,
            clientId: SANDBOX_CLIENTS.generic.clientId,
            clientSecret: SANDBOX_CLIENTS.generic.clientSecret,
            scopes: ['read', 'write'],
          })
        ).status,
      ).toBe(201);
      const created = await api.post('/admin/connections', {
        key: 'generic-user',
        integration: 'generic-code',
      });
      expect(new URL(created.body.authorizationUrl).searchParams.get('scope')).toBe('read write');
      const done = await get(
        (await decideAtSandbox(created.body.authorizationUrl, 'approve')).slice(publicUrl.length),
      );
      expect(done.status).toBe(200);
      expect((await api.post('/admin/connections/generic-user/refresh')).status).toBe(200);
      for (const record of wire) expect(record.authorization).toMatch(/^Basic /);
      expect(wire.map((record) => record.form.grant_type)).toEqual(['authorization_code', 'refresh_token']);
      const token = await getToken(broker.url, apiKey, 'generic-user');
      expect(token.status).toBe(200);
      const resource = await fetch(`${sandboxUrl}/generic/resource`, {
        headers: { authorization: `Bearer ${token.body.accessToken}` },
      });
      expect(await resource.json()).toMatchObject({ scope: 'read write', account: expect.any(String) });
      expect(sandbox.stats().refreshTokenReuses).toBe(0);
    });
  });
  describe('Basic credentials as Bloomerang documents them: the id and secret as they are', () => {
    const basicOf = (record: WireRecord) =>
      Buffer.from(record.authorization!.replace(/^Basic /, ''), 'base64').toString('utf8');
    const bloomerangEndpoints = () => ({
      authorizationUrl: `${sandboxUrl}/bloomerang/Authorize`,
      tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token`,
    });
    const resourceAnswers = async (connection: string) => {
      const token = await getToken(broker.url, apiKey, connection);
      expect(token.status).toBe(200);
      return (await me(token.body.accessToken)).status;
    };

    it('runs the code flow and rotating refreshes with "-", ".", "_", "~" and a ":" in the secret', async () => {
      const created = await api.post('/admin/integrations', {
        key: 'bloomerang-marked',
        provider: 'bloomerang',
        clientId: MARKED_BLOOMERANG.clientId,
        clientSecret: MARKED_BLOOMERANG.clientSecret,
        ...bloomerangEndpoints(),
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ clientId: MARKED_BLOOMERANG.clientId, basicAuthEncoding: 'raw' });
      expectNoSecret(created);
      const invalidClient = sandbox.stats().invalidClient;

      await connectBloomerang(broker.url, 'bloomerang-marked', 'marked');
      expect((await api.get('/admin/connections/marked')).body.status).toBe('active');
      for (let i = 0; i < 2; i++)
        expect((await api.post('/admin/connections/marked/refresh')).status).toBe(200);
      expect(await resourceAnswers('marked')).toBe(200);

      expect(wire.map((record) => record.form.grant_type)).toEqual([
        'authorization_code',
        'refresh_token',
        'refresh_token',
      ]);
      for (const record of wire) {
        expect(basicOf(record)).toBe(`${MARKED_BLOOMERANG.clientId}:${MARKED_BLOOMERANG.clientSecret}`);
      }
      expect(sandbox.stats()).toMatchObject({ invalidClient, refreshTokenReuses: 0, revokedChains: 0 });
    });

    it("the literal sandbox refuses oauth4webapi's strict encoding, and takes raw again afterwards", async () => {
      // A generic integration against the Bloomerang sandbox can choose the encoding: raw connects.
      const created = await api.post('/admin/integrations', {
        key: 'bloomerang-as-oauth2',
        provider: 'oauth2',
        grantType: 'authorization_code',
        basicAuthEncoding: 'raw',
        clientId: MARKED_BLOOMERANG.clientId,
        clientSecret: MARKED_BLOOMERANG.clientSecret,
        ...bloomerangEndpoints(),
      });
      expect(created.status).toBe(201);
      expect(created.body.basicAuthEncoding).toBe('raw');
      await connectBloomerang(broker.url, 'bloomerang-as-oauth2', 'marked-oauth2');
      const uses = sandbox.stats().refreshTokenUses;
      const invalidClient = sandbox.stats().invalidClient;

      for (const basicAuthEncoding of ['strict', 'form'] as const) {
        const patched = await api.patch('/admin/integrations/bloomerang-as-oauth2', { basicAuthEncoding });
        expect(patched.status).toBe(200);
        expect(patched.body.basicAuthEncoding).toBe(basicAuthEncoding);
        wire.length = 0;
        const refused = await api.post('/admin/connections/marked-oauth2/refresh');
        expect(refused.status).toBeGreaterThanOrEqual(400);
        expect(refused.text).toMatch(/invalid_client/);
        expectNoSecret(refused);
        // strict: "-" as %2D; form keeps "-._~" but must escape the ":" of the secret.
        const sent = basicOf(wire[0]);
        expect(sent).not.toBe(`${MARKED_BLOOMERANG.clientId}:${MARKED_BLOOMERANG.clientSecret}`);
        expect(sent).toContain(basicAuthEncoding === 'strict' ? 'blm%2Dclient' : 'blm-secret%3A9fK2qW');
      }
      expect(sandbox.stats().invalidClient).toBe(invalidClient + 2);
      expect(sandbox.stats().refreshTokenUses).toBe(uses); // refused before the refresh token was looked at

      expect(
        (await api.patch('/admin/integrations/bloomerang-as-oauth2', { basicAuthEncoding: 'raw' })).status,
      ).toBe(200);
      expect((await api.post('/admin/connections/marked-oauth2/refresh')).status).toBe(200);
      expect(await resourceAnswers('marked-oauth2')).toBe(200);
    });

    it('refuses, with a 400 that says why, a client id with ":" where it would travel raw', async () => {
      const colon = { clientId: 'blm:client', clientSecret: 'blm-secret' };
      const bloomerang = await api.post('/admin/integrations', {
        key: 'bloomerang-colon',
        provider: 'bloomerang',
        ...colon,
        ...bloomerangEndpoints(),
      });
      expect(bloomerang.status).toBe(400);
      expect(bloomerang.body).toEqual({
        statusCode: 400,
        error: 'bad_request',
        message: expect.stringMatching(/clientId must not contain ":".*RFC 7617/),
      });
      const patched = await api.patch('/admin/integrations/bloomerang-marked', { clientId: 'blm:client' });
      expect(patched.status).toBe(400);
      expect(patched.body.message).toMatch(/clientId must not contain ":"/);
      expect((await api.get('/admin/integrations/bloomerang-marked')).body.clientId).toBe(
        MARKED_BLOOMERANG.clientId,
      );

      const generic = {
        key: 'oauth2-colon',
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: `${sandboxUrl}/generic/token`,
        ...colon,
      };
      const raw = await api.post('/admin/integrations', { ...generic, basicAuthEncoding: 'raw' });
      expect(raw.status).toBe(400);
      expect(raw.body.message).toMatch(/clientId must not contain ":"/);
      const form = await api.post('/admin/integrations', generic); // form escapes the ":"
      expect(form.status).toBe(201);
      expect(form.body.basicAuthEncoding).toBe('form');
      const toRaw = await api.patch('/admin/integrations/oauth2-colon', { basicAuthEncoding: 'raw' });
      expect(toRaw.status).toBe(400);
      const unknown = await api.patch('/admin/integrations/oauth2-colon', { basicAuthEncoding: 'latin1' });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toMatch(/basicAuthEncoding/);
      const onBloomerang = await api.patch('/admin/integrations/bloomerang-marked', {
        basicAuthEncoding: 'strict',
      });
      expect(onBloomerang.status).toBe(400);
      expect(onBloomerang.body.message).toMatch(/basicAuthEncoding applies to provider "oauth2" only/);
    });
  });
});
