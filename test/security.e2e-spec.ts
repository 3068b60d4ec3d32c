import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { importJWK, SignJWT } from 'jose';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, sleep, startBroker } from './support/broker-process';
import { createTestDatabase, query } from './support/test-database';
import { TcpProxy } from './support/tcp-proxy';
import { ADMIN_CLIENT_ID, IdentityProvider } from './support/identity-provider';
import { admin, getToken, JsonResponse, request } from './support/http';
import {
  connectBloomerang,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
} from './support/provider-flows';

const REDIS_DB = 15;
const AUTH_FAILURE_LIMIT = 5;
const LONG_KEY = 'a'.repeat(300);

/**
 * What a security review found, each as the attack that worked: long keys that stopped the audit
 * trail, an admin PATCH that sent the client secret to another host, a lock-out of every admin
 * behind one proxy address, reads that forced an upstream refresh each, and a provider answer
 * with an absurd lifetime that lost a rotated refresh token.
 */
describe('security review', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let apiKey: string;

  const wellFormed = (response: JsonResponse, label: string) => {
    if (response.status >= 500 || response.status < 400) {
      throw new Error(`${label} → ${response.status} ${response.text}`);
    }
    expect(response.body).toEqual({
      statusCode: response.status,
      error: expect.any(String),
      message: expect.any(String),
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase('security');
    const redis = new Redis({ host: '127.0.0.1', port: 6379, db: REDIS_DB, lazyConnect: true });
    await redis.connect();
    await redis.flushdb();
    redis.disconnect();
    sandbox = createSandbox({ autoApprove: true, bloomTokenTtlSeconds: 3600, accessTokenTtlSeconds: 3600 });
    sandboxUrl = await sandbox.listen(0);
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
      BROKER_TRUSTED_PROXIES: '127.0.0.1/32',
      // The production default of the refresh interval (30 s), not the test suites' 0.
      BROKER_MIN_REFRESH_INTERVAL_SECONDS: undefined,
    });
    expect((await createBloomIntegration(broker.url, sandboxUrl, 'bloom')).status).toBe(201);
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    expect(
      (await admin(broker.url).post('/admin/connections', { key: 'bloom-1', integration: 'bloom' })).status,
    ).toBe(201);
    apiKey = await createApiKey(broker.url);
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  describe('finding 1: long keys', () => {
    it('answers a well-formed 4xx for a 300-character key on every route', async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', `/admin/integrations/${LONG_KEY}`],
        ['PATCH', `/admin/integrations/${LONG_KEY}`, { scopes: ['x'] }],
        ['DELETE', `/admin/integrations/${LONG_KEY}`],
        ['GET', `/admin/connections/${LONG_KEY}`],
        ['DELETE', `/admin/connections/${LONG_KEY}`],
        ['POST', `/admin/connections/${LONG_KEY}/refresh`],
        ['POST', `/admin/connections/${LONG_KEY}/authorize`],
        ['DELETE', `/admin/clients/${LONG_KEY}`],
        ['GET', `/admin/audit?target=${LONG_KEY}`],
        ['GET', `/admin/connections?integration=${LONG_KEY}`],
        ['GET', `/oauth/callback?code=x&state=${LONG_KEY}`],
        ['GET', `/admin/integrations/${'b'.repeat(600)}`],
      ];
      for (const [method, path, body] of routes) {
        wellFormed(await request(broker.url, method, path, { body }), `${method} ${path.slice(0, 40)}`);
      }
      for (const key of [LONG_KEY, 'x'.repeat(129), 'UPPER', 'a'.repeat(600)]) {
        wellFormed(await getToken(broker.url, apiKey, key), `GET /tokens/${key.slice(0, 20)}`);
      }
    });

    it('keeps auditing token reads after reads of impossible keys', async () => {
      for (let i = 0; i < 3; i++) await getToken(broker.url, apiKey, 'z'.repeat(200 + i));
      expect((await getToken(broker.url, apiKey, 'bloom-1')).status).toBe(200);
      let rows: unknown[] = [];
      for (let attempt = 0; attempt < 30 && rows.length === 0; attempt++) {
        await sleep(200);
        rows = (await admin(broker.url).get('/admin/audit?action=token.read&target=bloom-1')).body;
      }
      expect(rows.length).toBeGreaterThan(0);
      const impossible = await query(
        db.url,
        `SELECT count(*)::int AS n FROM audit_events WHERE length(target_key) > 63`,
      );
      expect(impossible[0].n).toBe(0);
    });
  });

  describe('finding 2: provider endpoints', () => {
    it('refuses a PATCH of tokenUrl or authorizationUrl without the client secret', async () => {
      const moved = await admin(broker.url).patch('/admin/integrations/bloomerang', {
        tokenUrl: 'https://attacker.example/token',
      });
      expect(moved.status).toBe(400);
      expect(moved.body.message).toMatch(/clientSecret/);
      const movedAuthorize = await admin(broker.url).patch('/admin/integrations/bloomerang', {
        authorizationUrl: 'https://attacker.example/authorize',
      });
      expect(movedAuthorize.status).toBe(400);
      const integration = await admin(broker.url).get('/admin/integrations/bloomerang');
      expect(integration.body.tokenUrl).toBe(`${sandboxUrl}/bloomerang/v2/oauth/token`);
    });

    it('audits a moved endpoint with its old and new host', async () => {
      const moved = await admin(broker.url).patch('/admin/integrations/bloomerang', {
        tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token?moved=1`,
        clientSecret: SANDBOX_CLIENTS.bloomerang.clientSecret,
      });
      expect(moved.status).toBe(200);
      const audit = await admin(broker.url).get('/admin/audit?action=integration.update&target=bloomerang');
      const host = new URL(sandboxUrl).host;
      expect(audit.body[0].details).toMatchObject({
        endpoints: { tokenUrl: { from: host, to: host } },
      });
      await admin(broker.url).patch('/admin/integrations/bloomerang', {
        tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token`,
        clientSecret: SANDBOX_CLIENTS.bloomerang.clientSecret,
      });
    });

    it.each([
      'https://10.1.2.3/token',
      'https://169.254.169.254/latest/meta-data',
      'https://192.168.0.10/token',
      'https://[fd00::1]/token',
      'https://[fe80::1]/token',
      'https://[::ffff:10.0.0.1]/token',
    ])('refuses the private provider endpoint %s', async (tokenUrl) => {
      const created = await createBloomIntegration(broker.url, sandboxUrl, `private-${Date.now()}`, {
        tokenUrl,
      });
      expect(created.status).toBe(400);
      expect(created.body.message).toMatch(/private|link-local/);
      const patched = await admin(broker.url).patch('/admin/integrations/bloom', {
        tokenUrl,
        clientSecret: SANDBOX_CLIENTS.bloom.clientSecret,
      });
      expect(patched.status).toBe(400);
    });
  });

  describe('finding 4: forced refreshes', () => {
    it('makes at most one upstream refresh for twenty sequential reads asking a day of validity', async () => {
      const before = sandbox.stats().tokenRequests.total;
      for (let i = 0; i < 20; i++) {
        const read = await getToken(broker.url, apiKey, 'bloom-1', 86400);
        expect(read.status).toBe(200);
      }
      expect(sandbox.stats().tokenRequests.total - before).toBeLessThanOrEqual(1);
    });
  });

  describe('finding 5: absurd lifetimes', () => {
    it('stores a rotated refresh token from an answer with expires_in 1e15, with a bounded expiry', async () => {
      await connectBloomerang(broker.url, 'bloomerang', 'absurd-1');
      sandbox.configure({ fault: 'absurdLifetime', faultCount: 1 });
      const refreshed = await admin(broker.url).post('/admin/connections/absurd-1/refresh');
      expect(refreshed.status).toBe(200);
      const expiresAt = Date.parse(refreshed.body.expiresAt);
      expect(expiresAt).toBeGreaterThan(Date.now());
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 366 * 86400_000);
      const read = await getToken(broker.url, apiKey, 'absurd-1');
      expect(read.status).toBe(200);
      expect(Number.isFinite(Date.parse(read.body.expiresAt))).toBe(true);
      // The next refresh presents the rotated refresh token: no reuse, no revoked chain.
      const again = await admin(broker.url).post('/admin/connections/absurd-1/refresh');
      expect(again.status).toBe(200);
      expect(again.body.status).toBe('active');
      expect(sandbox.stats().refreshTokenReuses).toBe(0);
    });
  });

  describe('smaller points', () => {
    it('Swagger UI does not keep the admin credential in the browser', async () => {
      const init = await request(broker.url, 'GET', '/docs/swagger-ui-init.js', { token: null });
      expect(init.status).toBe(200);
      expect(init.text).toMatch(/"persistAuthorization":\s*false/);
    });
  });

  describe('second review, finding 1: a refresh token stays with the host that issued it', () => {
    it('sends no refresh token to a moved token endpoint, even with a client secret', async () => {
      await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang-moved');
      await connectBloomerang(broker.url, 'bloomerang-moved', 'moved-1');
      const elsewhere = createSandbox({ autoApprove: true });
      const elsewhereUrl = await elsewhere.listen(0);
      try {
        const moved = await admin(broker.url).patch('/admin/integrations/bloomerang-moved', {
          tokenUrl: `${elsewhereUrl}/bloomerang/v2/oauth/token`,
          clientSecret: 'any-secret-the-attacker-knows',
        });
        expect(moved.status).toBe(200);
        const refreshed = await admin(broker.url).post('/admin/connections/moved-1/refresh');
        expect(elsewhere.stats().tokenRequests.total).toBe(0);
        expect(refreshed.status).toBe(409);
        const connection = await admin(broker.url).get('/admin/connections/moved-1');
        expect(connection.body).toMatchObject({
          status: 'needs_reauthorization',
          lastError: expect.stringMatching(/token host changed/),
        });
        const audit = await admin(broker.url).get(
          '/admin/audit?action=integration.update&target=bloomerang-moved',
        );
        expect(audit.body[0].details).toMatchObject({
          clientSecret: 'replaced',
          needsReauthorization: { count: 1, connections: ['moved-1'] },
        });
      } finally {
        await elsewhere.close();
      }
    });

    const tenantIntegration = {
      key: 'tenant-host',
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: 'https://{host}/oauth2/v1/token',
      tokenAuthMethod: 'client_secret_post',
      clientId: 'tenant-client',
      clientSecret: 'tenant-secret',
      config: [{ name: 'host', pattern: '[a-z]+\\.okta\\.invalid', description: 'the tenant host' }],
    };

    it('counts a change of config fields or patterns (a placeholder over the host) as a move', async () => {
      expect((await admin(broker.url).post('/admin/integrations', tenantIntegration)).status).toBe(201);
      const widened = await admin(broker.url).patch('/admin/integrations/tenant-host', {
        config: [{ name: 'host', pattern: '.+', description: 'any host' }],
      });
      expect(widened.status).toBe(400);
      expect(widened.body.message).toMatch(/clientSecret/);
    });

    it("checks a connection's stored config against the current patterns before each call", async () => {
      await admin(broker.url).post('/admin/connections', {
        key: 'tenant-1',
        integration: 'tenant-host',
        config: { host: 'acme.okta.invalid' },
      });
      expect((await admin(broker.url).get('/admin/connections/tenant-1')).status).toBe(200);
      const narrowed = await admin(broker.url).patch('/admin/integrations/tenant-host', {
        config: [{ name: 'host', pattern: '[a-z]+\\.other\\.invalid', description: 'the tenant host' }],
        clientSecret: 'tenant-secret',
      });
      expect(narrowed.status).toBe(200);
      const refreshed = await admin(broker.url).post('/admin/connections/tenant-1/refresh');
      expect(refreshed.status).toBeGreaterThanOrEqual(400);
      expect(refreshed.body.message).toMatch(/config\.host must match/);
    });
  });

  describe('second review, finding 3: loopback provider hosts', () => {
    it('refuses a sidecar admin port on loopback as a token URL unless loopback is allowed', async () => {
      let sidecarHits = 0;
      const sidecar = createServer((_request, response) => {
        sidecarHits++;
        response.end('shutting down');
      });
      await new Promise<void>((resolve) => sidecar.listen(0, '127.0.0.1', resolve));
      const sidecarPort = (sidecar.address() as AddressInfo).port;
      expect(
        (await admin(broker.url).post('/admin/connections', { key: 'bloom-strict', integration: 'bloom' }))
          .status,
      ).toBe(201);
      const strict = await startBroker({
        DATABASE_URL: db.url,
        REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
        BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS: 'false',
      });
      try {
        for (const tokenUrl of [
          `http://127.0.0.1:${sidecarPort}/quitquitquit`,
          `http://localhost:${sidecarPort}/shutdown`,
          `http://sidecar.localhost:${sidecarPort}/shutdown`,
          `http://[::1]:${sidecarPort}/shutdown`,
        ]) {
          const created = await createBloomIntegration(strict.url, sandboxUrl, `sidecar-${sidecarHits}`, {
            tokenUrl,
          });
          expect(created.status).toBe(400);
          expect(created.body.message).toMatch(/tokenUrl .*loopback.*BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS/);
        }
        const patched = await admin(strict.url).patch('/admin/integrations/bloom', {
          tokenUrl: `http://127.0.0.1:${sidecarPort}/quitquitquit`,
          clientSecret: SANDBOX_CLIENTS.bloom.clientSecret,
        });
        expect(patched.status).toBe(400);
        // An integration saved while loopback was allowed is refused at call time too.
        const refreshed = await admin(strict.url).post('/admin/connections/bloom-strict/refresh');
        expect(refreshed.status).toBeGreaterThanOrEqual(400);
        expect(refreshed.body.message).toMatch(/loopback/);
        expect(sidecarHits).toBe(0);
      } finally {
        await strict.stop();
        await new Promise((resolve) => sidecar.close(resolve));
      }
    });
  });

  describe('second review, finding 2: tokens of other OIDC clients', () => {
    let idp: IdentityProvider;
    let signedIn: BrokerProcess;
    const keycloakShaped = async (claims: Record<string, unknown>, typ = 'JWT') =>
      new SignJWT({ sub: 'f:realm:alice', groups: ['broker-admins'], typ: 'Bearer', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: idp.signingKey.kid, typ })
        .setIssuer(idp.issuer)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(await importJWK(idp.signingKey.privateJwk, 'RS256'));
    const asPerson = (token: string) => request(signedIn.url, 'GET', '/admin/integrations', { token });

    beforeAll(async () => {
      idp = await IdentityProvider.start({ redirectUris: ['http://127.0.0.1:1/cb'], people: {} });
      signedIn = await startBroker({
        DATABASE_URL: db.url,
        REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
        BROKER_ADMIN_OIDC_ISSUER: idp.issuer,
        BROKER_ADMIN_OIDC_CLIENT_ID: ADMIN_CLIENT_ID,
        BROKER_ADMIN_OIDC_ROLE_MAP: 'admin=broker-admins',
      });
    });

    afterAll(async () => {
      await signedIn?.stop();
      await idp?.stop();
    });

    it("accepts the broker client's own access token", async () => {
      const own = await keycloakShaped({ aud: [ADMIN_CLIENT_ID, 'account'], azp: ADMIN_CLIENT_ID });
      expect((await asPerson(own)).status).toBe(200);
    });

    it('refuses an access token Keycloak issued to another client with the broker in its audience', async () => {
      const other = await keycloakShaped({ aud: [ADMIN_CLIENT_ID, 'account'], azp: 'reporting-dashboard' });
      const refused = await asPerson(other);
      expect(refused.status).toBe(401);
      expect(refused.body.message).toMatch(/another client/);
    });

    it('refuses a token with several audiences and no azp', async () => {
      const ambiguous = await keycloakShaped({ aud: [ADMIN_CLIENT_ID, 'reporting-dashboard'] });
      expect((await asPerson(ambiguous)).status).toBe(401);
    });

    it('refuses a token of another type (a refresh token, a logout token)', async () => {
      const refresh = await keycloakShaped({ aud: ADMIN_CLIENT_ID, azp: ADMIN_CLIENT_ID, typ: 'Refresh' });
      expect((await asPerson(refresh)).status).toBe(401);
      const logout = await keycloakShaped({ aud: ADMIN_CLIENT_ID }, 'logout+jwt');
      expect((await asPerson(logout)).status).toBe(401);
    });

    it("stops a person's minted token when the person loses the role", async () => {
      const alice = await keycloakShaped({ aud: ADMIN_CLIENT_ID, azp: ADMIN_CLIENT_ID });
      const minted = await request(signedIn.url, 'POST', '/admin/tokens', {
        token: alice,
        body: { name: 'minted-by-alice', role: 'admin', expiresInDays: 30 },
      });
      expect(minted.status).toBe(201);
      expect((await asPerson(minted.body.token)).status).toBe(200);
      // Alice leaves the admin group; her next request carries her new groups.
      const demoted = await keycloakShaped({ aud: ADMIN_CLIENT_ID, azp: ADMIN_CLIENT_ID, groups: ['sales'] });
      expect((await asPerson(demoted)).status).toBe(403);
      expect((await asPerson(minted.body.token)).status).toBe(401);
    });

    it('tells a person whose token has no roles claim which claim and which setting', async () => {
      const noGroups = await keycloakShaped({
        aud: ADMIN_CLIENT_ID,
        azp: ADMIN_CLIENT_ID,
        groups: undefined,
      });
      const refused = await asPerson(noGroups);
      expect(refused.status).toBe(403);
      expect(refused.body.message).toMatch(/"groups" claim.*BROKER_ADMIN_OIDC_SCOPES/);
    });
  });

  describe('second review, finding 6: metadata and parameters that may hold secrets', () => {
    const generic = (key: string, extra: Record<string, unknown>) =>
      admin(broker.url).post('/admin/integrations', {
        key,
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: `${sandboxUrl}/generic/authorize`,
        tokenUrl: `${sandboxUrl}/generic/token`,
        clientId: SANDBOX_CLIENTS.generic.clientId,
        clientSecret: SANDBOX_CLIENTS.generic.clientSecret,
        ...extra,
      });

    it.each(['bot_access_token', 'Access_Token', 'signature'])(
      'refuses to keep the answer field %s as metadata',
      async (name) => {
        const created = await generic(`meta-${name.toLowerCase().replace(/_/g, '-')}`, {
          metadata: { tokenResponse: ['instance_url', name], callback: [] },
        });
        expect(created.status).toBe(400);
        expect(created.body.message).toMatch(new RegExp(`"${name}" looks like a secret`));
      },
    );

    it('shows the free-form parameter maps to admin only, not to an operator or a viewer', async () => {
      const params = {
        extraTokenParams: { client_assertion_hint: 'assertion-value' },
        refreshParams: { key: 'refresh-param-value' },
        codeExchangeParams: { key: 'exchange-param-value' },
        authorizationParams: { access_type: 'offline' },
      };
      expect((await generic('params-admin-only', params)).status).toBe(201);
      expect((await admin(broker.url).get('/admin/integrations/params-admin-only')).body).toMatchObject(
        params,
      );
      for (const role of ['viewer', 'operator']) {
        const minted = await admin(broker.url).post('/admin/tokens', {
          name: `params-${role}`,
          role,
          expiresInDays: 1,
        });
        expect(minted.status).toBe(201);
        const one = await request(broker.url, 'GET', '/admin/integrations/params-admin-only', {
          token: minted.body.token,
        });
        const all = await request(broker.url, 'GET', '/admin/integrations', { token: minted.body.token });
        expect(one.status).toBe(200);
        const listed = all.body.find((view: { key: string }) => view.key === 'params-admin-only');
        for (const view of [one.body, listed]) {
          for (const field of Object.keys(params)) expect(view).not.toHaveProperty(field);
        }
      }
    });
  });

  describe('second review, findings 4 and 5: named admin tokens', () => {
    const mint = (token: string | undefined, name: string, expiresInDays: number) =>
      request(broker.url, 'POST', '/admin/tokens', { token, body: { name, role: 'admin', expiresInDays } });
    const use = (url: string, token: string) => request(url, 'GET', '/admin/integrations', { token });

    it('a token minted by a token expires no later than its parent and is revoked with it', async () => {
      const parent = await mint(undefined, 'parent-one-day', 1);
      expect(parent.status).toBe(201);
      const child = await mint(parent.body.token, 'child-366-days', 366);
      expect(child.status).toBe(201);
      expect(Date.parse(child.body.expiresAt)).toBeLessThanOrEqual(Date.parse(parent.body.expiresAt));
      expect((await use(broker.url, child.body.token)).status).toBe(200);
      expect((await admin(broker.url).delete(`/admin/tokens/${parent.body.id}`)).status).toBe(204);
      expect((await use(broker.url, parent.body.token)).status).toBe(401);
      expect((await use(broker.url, child.body.token)).status).toBe(401);
    });

    it('a replica whose change listener went half-open stops honouring a revoked token', async () => {
      const proxy = new TcpProxy(5432);
      const proxyPort = await proxy.start();
      const proxiedUrl = new URL(db.url);
      proxiedUrl.port = String(proxyPort);
      const replica = await startBroker({
        DATABASE_URL: proxiedUrl.href,
        REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
        BROKER_ROLE: 'api',
      });
      try {
        const minted = await mint(undefined, 'revoked-behind-a-cut', 1);
        expect((await use(replica.url, minted.body.token)).status).toBe(200);
        expect(proxy.freeze('token-broker-listener')).toBeGreaterThan(0);
        expect((await admin(broker.url).delete(`/admin/tokens/${minted.body.id}`)).status).toBe(204);
        // The NOTIFY never arrives; the listener's heartbeat finds it dead, and the replica stops
        // trusting its cache. A generous bound, well short of the cache's minute.
        let status = 200;
        for (let attempt = 0; attempt < 80 && status === 200; attempt++) {
          await sleep(500);
          status = (await use(replica.url, minted.body.token)).status;
        }
        expect(status).toBe(401);
      } finally {
        await replica.stop();
        await proxy.cut();
      }
    });
  });

  describe('second review, finding 7: a moved refresh inside the horizon', () => {
    it('queues the new plan again when a job finds its plan moved to a time within the horizon', async () => {
      expect(
        (await admin(broker.url).post('/admin/connections', { key: 'moved-job-1', integration: 'bloom' }))
          .status,
      ).toBe(201);
      const [row] = await query<{ id: string; version: number }>(
        db.url,
        `SELECT id, token_version AS version FROM connections WHERE key = 'moved-job-1'`,
      );
      // The plan moved a few seconds later while the job for the earlier one was still queued
      // (as a sweep that defers a cold connection does): the sweep's own job for the new plan was
      // dropped as a duplicate id.
      await query(
        db.url,
        `UPDATE connections SET next_refresh_at = now() + interval '4 seconds' WHERE id = $1`,
        [row.id],
      );
      const queue = new Queue('token-refresh', {
        connection: { host: '127.0.0.1', port: 6379, db: REDIS_DB },
        prefix: 'broker',
      });
      try {
        await queue.add(
          'refresh-connection',
          { connectionId: row.id, tokenVersion: row.version, runAt: Date.now() },
          { jobId: `refresh.${row.id}.${row.version}`, removeOnComplete: true, removeOnFail: true },
        );
      } finally {
        await queue.close();
      }
      let version = row.version;
      for (let attempt = 0; attempt < 60 && version === row.version; attempt++) {
        await sleep(500);
        [{ version }] = await query<{ version: number }>(
          db.url,
          `SELECT token_version AS version FROM connections WHERE id = $1`,
          [row.id],
        );
      }
      expect(version).toBeGreaterThan(row.version);
    });
  });

  // Last: it blocks the test's proxy client address.
  describe('finding 3: failed-auth throttle behind a proxy', () => {
    const from = (address: string, token?: string) =>
      request(broker.url, 'GET', '/admin/integrations', {
        token,
        headers: { 'x-forwarded-for': address },
      });

    it('blocks the failing source only, and never refuses a valid credential', async () => {
      const attacker = '203.0.113.9';
      const statuses: number[] = [];
      for (let i = 0; i < AUTH_FAILURE_LIMIT + 3; i++)
        statuses.push((await from(attacker, 'wrong-token')).status);
      expect(statuses.slice(0, AUTH_FAILURE_LIMIT)).toEqual(Array(AUTH_FAILURE_LIMIT).fill(401));
      expect(statuses.at(-1)).toBe(429);
      // Another client behind the same proxy: not blocked.
      expect((await from('198.51.100.7')).status).toBe(200);
      expect((await from('198.51.100.7', 'also-wrong')).status).toBe(401);
      // A valid admin sharing the attacker's address: still served.
      expect((await from(attacker)).status).toBe(200);
      // A valid client API key too.
      const read = await request(broker.url, 'GET', '/tokens/bloom-1', {
        token: apiKey,
        headers: { 'x-forwarded-for': attacker },
      });
      expect(read.status).toBe(200);
    });
  });
});
