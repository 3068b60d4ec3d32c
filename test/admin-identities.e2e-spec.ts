import { connect } from 'node:net';
import { ADMIN_TOKEN, BrokerProcess, freePort, randomSuffix, startBroker } from './support/broker-process';
import { request } from './support/http';
import { createTestDatabase, query } from './support/test-database';
import { ADMIN_CLIENT_ID, IdentityProvider } from './support/identity-provider';

const REDIS_URL = 'redis://127.0.0.1:6379/14';
const ROLE_MAP = 'admin=token-broker-admins,operator=platform-oncall,viewer=engineering';
const PEOPLE = {
  alice: { email: 'alice@example.com', groups: ['token-broker-admins', 'engineering'] },
  oscar: { email: 'oscar@example.com', groups: ['platform-oncall'] },
  victor: { groups: ['engineering'] },
  nora: { email: 'nora@example.com', groups: ['marketing'] },
};
type Login = keyof typeof PEOPLE;
type Role = 'admin' | 'operator' | 'viewer' | null;
const ROLE_OF: Record<Login, Role> = { alice: 'admin', oscar: 'operator', victor: 'viewer', nora: null };
const RANK = { viewer: 0, operator: 1, admin: 2 } as const;

/** The resources one person's requests act on, made beforehand with the bootstrap token. */
interface Fixture {
  s: string;
  integration: string;
  doomedIntegration: string;
  connection: string;
  doomedConnection: string;
  doomedClient: string;
  doomedToken: string;
}

/** Every admin route, the role it needs, and a request that succeeds for whoever may make it. */
const ROUTES: Array<{
  route: string;
  role: 'admin' | 'operator' | 'viewer';
  path: (f: Fixture) => string;
  body?: (f: Fixture) => unknown;
}> = [
  {
    route: 'POST /admin/integrations',
    role: 'admin',
    path: () => '/admin/integrations',
    body: (f) => integrationBody(`i-${f.s}-new`),
  },
  { route: 'GET /admin/integrations', role: 'viewer', path: () => '/admin/integrations' },
  {
    route: 'GET /admin/integrations/{key}',
    role: 'viewer',
    path: (f) => `/admin/integrations/${f.integration}`,
  },
  {
    route: 'PATCH /admin/integrations/{key}',
    role: 'admin',
    path: (f) => `/admin/integrations/${f.integration}`,
    body: () => ({ scopes: ['read'] }),
  },
  {
    route: 'DELETE /admin/integrations/{key}',
    role: 'admin',
    path: (f) => `/admin/integrations/${f.doomedIntegration}`,
  },
  {
    route: 'POST /admin/connections',
    role: 'operator',
    path: () => '/admin/connections',
    body: (f) => ({ key: `c-${f.s}-new`, integration: f.integration }),
  },
  {
    route: 'POST /admin/connections/import',
    role: 'operator',
    path: () => '/admin/connections/import',
    body: (f) => ({
      connections: [
        {
          key: `c-${f.s}-imp`,
          integration: f.integration,
          refreshToken: 'imported-refresh-token',
          accessToken: 'imported-access-token',
          expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
        },
      ],
    }),
  },
  { route: 'GET /admin/connections', role: 'viewer', path: () => '/admin/connections' },
  {
    route: 'GET /admin/connections/{key}',
    role: 'viewer',
    path: (f) => `/admin/connections/${f.connection}`,
  },
  {
    route: 'POST /admin/connections/{key}/authorize',
    role: 'operator',
    path: (f) => `/admin/connections/${f.connection}/authorize`,
  },
  {
    route: 'POST /admin/connections/{key}/refresh',
    role: 'operator',
    path: (f) => `/admin/connections/${f.connection}/refresh`,
  },
  {
    route: 'DELETE /admin/connections/{key}',
    role: 'operator',
    path: (f) => `/admin/connections/${f.doomedConnection}`,
  },
  {
    route: 'POST /admin/clients',
    role: 'admin',
    path: () => '/admin/clients',
    body: (f) => ({ name: `svc-${f.s}`, connections: ['*'] }),
  },
  { route: 'GET /admin/clients', role: 'viewer', path: () => '/admin/clients' },
  { route: 'DELETE /admin/clients/{id}', role: 'admin', path: (f) => `/admin/clients/${f.doomedClient}` },
  { route: 'GET /admin/audit', role: 'viewer', path: () => '/admin/audit' },
  {
    route: 'POST /admin/tokens',
    role: 'admin',
    path: () => '/admin/tokens',
    body: (f) => ({ name: `t-${f.s}-new`, role: 'viewer', expiresInDays: 1 }),
  },
  { route: 'GET /admin/tokens', role: 'viewer', path: () => '/admin/tokens' },
  { route: 'GET /admin/providers', role: 'viewer', path: () => '/admin/providers' },
  { route: 'DELETE /admin/tokens/{id}', role: 'admin', path: (f) => `/admin/tokens/${f.doomedToken}` },
];

function integrationBody(key: string) {
  return {
    key,
    provider: 'oauth2',
    grantType: 'authorization_code',
    clientId: 'upstream-client',
    clientSecret: 'upstream-secret-value',
    authorizationUrl: 'http://127.0.0.1:9/authorize',
    tokenUrl: 'http://127.0.0.1:9/token',
  };
}

/**
 * Admin identities end to end: people of three groups (and one of none) sign in at a real OpenID
 * Connect provider (`oidc-provider`, in this process), and each is allowed and refused exactly as
 * their role says on every admin route; the audit names each person. Named tokens, the bootstrap
 * token, revocation across replicas, expiry, the credential check before the body, and the
 * provider going away. Redis DB 14.
 */
describe('admin identities', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let idp: IdentityProvider;
  let broker: BrokerProcess;
  let replica: BrokerProcess;
  let redirectUri: string;
  const idTokens = {} as Record<Login, string>;
  let brokerEnv: Record<string, string>;

  beforeAll(async () => {
    const port = await freePort();
    redirectUri = `http://127.0.0.1:${port}/docs/oauth2-redirect.html`;
    idp = await IdentityProvider.start({ redirectUris: [redirectUri], people: PEOPLE });
    db = await createTestDatabase('admin_identities');
    brokerEnv = {
      DATABASE_URL: db.url,
      REDIS_URL,
      BROKER_ROLE: 'api',
      BROKER_ADMIN_OIDC_ISSUER: idp.issuer,
      BROKER_ADMIN_OIDC_CLIENT_ID: ADMIN_CLIENT_ID,
      BROKER_ADMIN_OIDC_ROLE_MAP: ROLE_MAP,
    };
    broker = await startBroker({ ...brokerEnv, PORT: String(port) });
    for (const login of Object.keys(PEOPLE) as Login[])
      idTokens[login] = await idp.signIn(login, redirectUri);
  });

  afterAll(async () => {
    await replica?.stop();
    await broker?.stop();
    await idp?.stop();
    await db?.drop();
  });

  const as = (token: string | undefined, method: string, path: string, body?: unknown) =>
    request(broker.url, method, path, { token: token ?? null, body });
  const bootstrap = (method: string, path: string, body?: unknown) => as(ADMIN_TOKEN, method, path, body);

  async function fixture(login: string): Promise<Fixture> {
    const s = `${login}-${randomSuffix()}`;
    const f = {
      s,
      integration: `i-${s}`,
      doomedIntegration: `i-${s}-del`,
      connection: `c-${s}`,
      doomedConnection: `c-${s}-del`,
    } as Fixture;
    for (const key of [f.integration, f.doomedIntegration])
      expect((await bootstrap('POST', '/admin/integrations', integrationBody(key))).status).toBe(201);
    for (const key of [f.connection, f.doomedConnection])
      expect(
        (await bootstrap('POST', '/admin/connections', { key, integration: f.integration })).status,
      ).toBe(201);
    const client = await bootstrap('POST', '/admin/clients', { name: `doomed-${s}`, connections: ['*'] });
    f.doomedClient = client.body.id;
    const token = await bootstrap('POST', '/admin/tokens', {
      name: `doomed-${s}`,
      role: 'viewer',
      expiresInDays: 1,
    });
    expect(token.status).toBe(201);
    f.doomedToken = token.body.id;
    return f;
  }

  it('covers every admin route of the served OpenAPI document, each stating its role', async () => {
    const document = (await request(broker.url, 'GET', '/docs-json', { token: null })).body;
    const served = Object.entries(document.paths as Record<string, Record<string, any>>)
      .filter(([path]) => path.startsWith('/admin'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          route: `${method.toUpperCase()} ${path}`,
          role: operation['x-required-role'],
        })),
      );
    expect(served.sort((a, b) => a.route.localeCompare(b.route))).toEqual(
      ROUTES.map(({ route, role }) => ({ route, role })).sort((a, b) => a.route.localeCompare(b.route)),
    );
    // Swagger UI signs in through the provider: an oauth2 authorization-code scheme on every admin operation.
    expect(document.components.securitySchemes.signIn).toMatchObject({
      type: 'oauth2',
      flows: {
        authorizationCode: { authorizationUrl: `${idp.issuer}/auth`, tokenUrl: `${idp.issuer}/token` },
      },
    });
    for (const { route } of served) {
      const [method, path] = route.split(' ');
      expect({ route, security: document.paths[path][method.toLowerCase()].security }).toEqual({
        route,
        security: expect.arrayContaining([{ admin: [] }, { signIn: [] }]),
      });
    }
  });

  it.each(Object.keys(PEOPLE) as Login[])(
    '%s is allowed and refused exactly as their role says',
    async (login) => {
      const f = await fixture(login);
      const role = ROLE_OF[login];
      const outcomes: Array<{ route: string; status: number; error?: string }> = [];
      const expected: typeof outcomes = [];
      for (const route of ROUTES) {
        const response = await as(idTokens[login], route.route.split(' ')[0], route.path(f), route.body?.(f));
        const allowed = role !== null && RANK[role] >= RANK[route.role];
        outcomes.push({
          route: route.route,
          status: allowed ? (response.status < 400 ? 200 : response.status) : response.status,
          ...(allowed ? {} : { error: response.body?.error }),
        });
        expected.push({
          route: route.route,
          status: allowed ? 200 : 403,
          ...(allowed ? {} : { error: 'forbidden' }),
        });
      }
      // The refresh of a connection still waiting for authorization is refused by the connection, not the role.
      const refresh = expected.find((entry) => entry.route === 'POST /admin/connections/{key}/refresh')!;
      if (refresh.status === 200)
        refresh.status = outcomes.find((entry) => entry.route === refresh.route)!.status;
      expect(outcomes).toEqual(expected);
    },
  );

  it('names each person in the audit, with the email their provider gives', async () => {
    const rows = async (actor: string) =>
      (await bootstrap('GET', `/admin/audit?actor=${encodeURIComponent(actor)}&limit=1000`))
        .body as Array<any>;
    const alice = await rows('oidc:alice');
    expect(alice.map((row) => row.action)).toEqual(
      expect.arrayContaining([
        'integration.create',
        'integration.update',
        'client.create',
        'admin_token.create',
      ]),
    );
    expect(
      new Set(alice.filter((row) => row.action !== 'admin.refused').map((row) => row.actorEmail)),
    ).toEqual(new Set(['alice@example.com']));
    const oscar = await rows('oidc:oscar');
    expect(oscar.map((row) => row.action)).toEqual(
      expect.arrayContaining([
        'connection.create',
        'connection.import',
        'connection.authorize',
        'connection.delete',
      ]),
    );
    expect(oscar.map((row) => row.action)).not.toContain('integration.create');
    // Refusals are audited too (written within a second), with the reason.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const refused = (await rows('oidc:victor')).filter((row) => row.action === 'admin.refused');
    expect(refused.length).toBeGreaterThan(0);
    expect(refused[0]).toMatchObject({ outcome: 'forbidden', targetType: 'admin_route' });
    expect(refused[0].details.reason).toContain('needs the');
    const nora = (await rows('oidc:nora')).filter((row) => row.action === 'admin.refused');
    expect(nora[0].details.reason).toContain('no admin role');
    const bootstrapRows = await rows('bootstrap');
    expect(bootstrapRows.map((row) => row.action)).toContain('integration.create');
  });

  it('named tokens: work as bearer at their role, are shown once, stop when deleted (on every replica) or expired', async () => {
    const minted = await as(idTokens.alice, 'POST', '/admin/tokens', {
      name: `ci-${randomSuffix()}`,
      role: 'operator',
      expiresInDays: 30,
    });
    expect(minted.status).toBe(201);
    expect(minted.body.token).toMatch(/^tba_/);
    expect(minted.body.createdBy).toBe('oidc:alice');
    const listed = (await bootstrap('GET', '/admin/tokens')).body as Array<any>;
    expect(JSON.stringify(listed)).not.toContain(minted.body.token);
    const stored = await query(db.url, 'SELECT token_hash FROM admin_tokens WHERE id = $1', [minted.body.id]);
    expect(JSON.stringify(stored)).not.toContain(minted.body.token);

    const token = minted.body.token as string;
    const integration = `i-tok-${randomSuffix()}`;
    expect((await bootstrap('POST', '/admin/integrations', integrationBody(integration))).status).toBe(201);
    expect(
      (await as(token, 'POST', '/admin/connections', { key: `c-tok-${randomSuffix()}`, integration })).status,
    ).toBe(201);
    expect(
      (await as(token, 'POST', '/admin/integrations', integrationBody(`x-${randomSuffix()}`))).body.error,
    ).toBe('forbidden');
    const audit = (
      await bootstrap('GET', `/admin/audit?actor=${encodeURIComponent(`token:${minted.body.name}`)}`)
    ).body;
    expect(audit.map((row: any) => row.action)).toContain('connection.create');

    // A second replica knows the token (cached), then it is deleted on the first.
    replica = await startBroker(brokerEnv);
    expect((await request(replica.url, 'GET', '/admin/connections', { token })).status).toBe(200);
    expect((await bootstrap('DELETE', `/admin/tokens/${minted.body.id}`)).status).toBe(204);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterDelete = await request(replica.url, 'GET', '/admin/connections', { token });
    expect({ status: afterDelete.status, error: afterDelete.body.error }).toEqual({
      status: 401,
      error: 'unauthorized',
    });
    expect((await as(token, 'GET', '/admin/connections')).status).toBe(401);

    const expiring = await bootstrap('POST', '/admin/tokens', {
      name: `exp-${randomSuffix()}`,
      role: 'viewer',
      expiresInDays: 1,
    });
    await query(db.url, `UPDATE admin_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, [
      expiring.body.id,
    ]);
    expect((await as(expiring.body.token, 'GET', '/admin/connections')).status).toBe(401);
  });

  it('checks the credential before reading the body: a refused bulk import is answered with nothing sent', async () => {
    const url = new URL(broker.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        // 8 MiB announced, 1 KiB sent: a server that read the body first would wait for the rest.
        socket.write(
          'POST /admin/connections/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer not-a-credential\r\n' +
            `Content-Type: application/json\r\nContent-Length: ${8 * 1024 * 1024}\r\n\r\n` +
            '{"connections":['.padEnd(1024, ' '),
        );
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.includes('\r\n\r\n')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
      setTimeout(() => reject(new Error(`no answer before the body: ${received}`)), 5_000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
  });

  it('starts without the bootstrap token once sign-in is configured; then no static token is accepted', async () => {
    const withoutBootstrap = await startBroker({ ...brokerEnv, BROKER_ADMIN_TOKEN: undefined });
    try {
      expect(
        (await request(withoutBootstrap.url, 'GET', '/admin/integrations', { token: ADMIN_TOKEN })).status,
      ).toBe(401);
      expect(
        (await request(withoutBootstrap.url, 'GET', '/admin/integrations', { token: idTokens.alice })).status,
      ).toBe(200);
    } finally {
      await withoutBootstrap.stop();
    }
  });

  it('keeps cached keys working while the provider is away; a replica without them answers 503', async () => {
    const fresh = await startBroker(brokerEnv);
    try {
      await idp.stop();
      expect((await as(idTokens.alice, 'GET', '/admin/integrations')).status).toBe(200);
      const away = await request(fresh.url, 'GET', '/admin/integrations', { token: idTokens.alice });
      expect({ status: away.status, error: away.body.error }).toEqual({
        status: 503,
        error: 'service_unavailable',
      });
      // The bootstrap token and named tokens need no provider.
      expect((await request(fresh.url, 'GET', '/admin/integrations', { token: ADMIN_TOKEN })).status).toBe(
        200,
      );
    } finally {
      await idp.listen();
      await fresh.stop();
    }
  });
});
