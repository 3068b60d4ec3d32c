import { createSandbox, profileClient, PROVIDER_PROFILES, type Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, startBroker } from './support/broker-process';
import { admin, getToken, request } from './support/http';
import { authorizeAtSandbox, createApiKey } from './support/provider-flows';
import { createTestDatabase, expireStoredToken, storedRefreshToken } from './support/test-database';

/**
 * Every catalogue entry through the built broker against its strict sandbox profile: the authorization
 * flow, metadata, refreshes, and a herd of readers of an expired token making one upstream refresh.
 */
const REDIS_DB = 11;
const HERD = 100;

interface CatalogueCase {
  readonly id: string;
  /** The connection's config values (a shop, a subdomain...); each also names a `{name}` of the URLs. */
  readonly config?: Record<string, string>;
  /** The integration's scopes, where the profile refuses an authorization without one. */
  readonly scopes?: string[];
  /** What the token answer's `metadata` must hold (the sandbox's URL fills `{sandbox}`). */
  readonly metadata?: (sandboxUrl: string) => Record<string, unknown>;
  /** Whether the broker must send a PKCE S256 challenge (the profile refuses an authorization without). */
  readonly pkceRequired?: boolean;
}

const CASES: readonly CatalogueCase[] = [
  { id: 'google', scopes: ['openid', 'email'] },
  { id: 'microsoft', config: { tenant: 'common' } },
  {
    id: 'salesforce',
    metadata: (sandboxUrl) => ({
      instance_url: `${sandboxUrl}/salesforce/instance`,
      id: expect.stringContaining(`${sandboxUrl}/salesforce/id/`),
    }),
  },
  { id: 'hubspot', scopes: ['crm.objects.contacts.read'] },
  { id: 'xero' },
  { id: 'quickbooks', metadata: () => ({ realmId: '9130350000000001' }) },
  { id: 'zoom', scopes: ['meeting:read', 'user:read'] },
  {
    id: 'slack',
    scopes: ['chat:write', 'channels:read'],
    metadata: () => ({
      app_id: expect.any(String),
      bot_user_id: expect.any(String),
      team: { id: expect.stringMatching(/^T/), name: expect.any(String) },
    }),
  },
  { id: 'atlassian', scopes: ['offline_access', 'read:jira-work'] },
  { id: 'github-app' },
  { id: 'dropbox', metadata: () => ({ account_id: expect.stringMatching(/^dbid:/) }) },
  { id: 'box' },
  { id: 'docusign' },
  { id: 'shopify', config: { shop: 'acme-store' }, scopes: ['read_orders', 'write_products'] },
  { id: 'zendesk', config: { subdomain: 'acme' } },
  {
    id: 'pipedrive',
    metadata: (sandboxUrl) => ({ api_domain: expect.stringContaining(`${sandboxUrl}/pipedrive/api/`) }),
  },
  {
    id: 'zoho',
    config: { domain: 'eu' },
    scopes: ['ZohoCRM.modules.ALL'],
    metadata: () => ({ api_domain: 'https://www.zohoapis.eu' }),
  },
  { id: 'x', pkceRequired: true },
  { id: 'canva', scopes: ['design:meta:read'], pkceRequired: true },
  { id: 'airtable', scopes: ['data.records:read'], pkceRequired: true },
  { id: 'exact-online' },
  { id: 'gusto' },
  {
    id: 'netsuite',
    config: { accountId: '1234567-sb1' },
    scopes: ['rest_webservices'],
    metadata: () => ({ company: '1234567-sb1', role: '3', entity: '4622' }),
  },
  {
    id: 'calendly',
    metadata: () => ({
      owner: expect.stringMatching(/^https:\/\/api\.calendly\.com\/users\//),
      organization: expect.stringMatching(/^https:\/\/api\.calendly\.com\/organizations\//),
    }),
  },
  {
    id: 'sage',
    scopes: ['full_access'],
    metadata: () => ({ country: 'GB', requested_by_id: expect.any(String) }),
  },
  { id: 'freshbooks' },
  // offline_access is what earns Constant Contact's refresh token: named here until the broker asks
  // an entry's refreshEarning scopes itself (issue 24, branch catalogue-trust); then business scopes only.
  { id: 'constant-contact', scopes: ['contact_data', 'offline_access'] },
  { id: 'keap' },
  {
    id: 'myob',
    scopes: ['sme-company-file'],
    metadata: () => ({
      businessId: expect.stringMatching(/^[0-9a-f-]{24}[0-9A-F]{12}$/),
      businessName: 'Sandbox Company File',
    }),
  },
  { id: 'outreach', scopes: ['prospects.read'] },
  { id: 'asana', scopes: ['tasks:read'], metadata: () => ({ data: { gid: expect.any(String) } }) },
];

const profileOf = (id: string) => {
  const profile = PROVIDER_PROFILES.find((candidate) => candidate.id === id);
  if (!profile) throw new Error(`the sandbox has no profile ${id}`);
  return profile;
};

/** `/<id>` or `/<id>/<value>`: where the sandbox serves the profile for this connection. */
const sandboxPath = (id: string, config?: Record<string, string>) => {
  const host = profileOf(id).host;
  return host ? `/${id}/${encodeURIComponent(config?.[host.name] ?? '')}` : `/${id}`;
};

interface Connected {
  readonly key: string;
  accessToken: string;
}

describe('provider catalogue through the broker against strict sandbox profiles', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let api: ReturnType<typeof admin>;
  let apiKey: string;
  /** Each entry's flow, all started at once in beforeAll and awaited by its own test. */
  const flows = new Map<string, Promise<Connected>>();

  const counters = (id: string) => sandbox.stats().profiles[id];
  const resource = (id: string, config: Record<string, string> | undefined, accessToken: string) =>
    fetch(`${sandboxUrl}${sandboxPath(id, config)}/resource`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
  /** Exact Online refuses a refresh while the access token has more than 30 s left: end it at the sandbox. */
  const allowRefresh = async (id: string) => {
    if (profileOf(id).earliestRefreshSeconds !== undefined) {
      await fetch(`${sandboxUrl}/_sandbox/expire-access-tokens?profile=${id}`, { method: 'POST' });
    }
  };

  async function createIntegration(entry: CatalogueCase, key: string) {
    const path = profileOf(entry.id).host
      ? `/${entry.id}/{${profileOf(entry.id).host!.name}}`
      : `/${entry.id}`;
    const { clientId, clientSecret } = profileClient({ id: entry.id });
    const response = await api.post('/admin/integrations', {
      key,
      provider: entry.id,
      clientId,
      clientSecret,
      ...(entry.scopes ? { scopes: entry.scopes } : {}),
      authorizationUrl: `${sandboxUrl}${path}/authorize`,
      tokenUrl: `${sandboxUrl}${path}/token`,
    });
    expect({ status: response.status, body: response.body }).toMatchObject({ status: 201 });
  }

  /** Integration, connection, authorization through the sandbox, token read, two refreshes. */
  async function connect(entry: CatalogueCase): Promise<Connected> {
    const integration = `cat-${entry.id}`;
    const key = `conn-${entry.id}`;
    await createIntegration(entry, integration);
    const created = await api.post('/admin/connections', {
      key,
      integration,
      ...(entry.config ? { config: entry.config } : {}),
    });
    expect({ status: created.status, body: created.body }).toMatchObject({
      status: 201,
      body: { status: 'pending_authorization' },
    });
    const authorizationUrl = new URL(created.body.authorizationUrl);
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(
      `${sandboxUrl}${sandboxPath(entry.id, entry.config)}/authorize`,
    );
    if (entry.pkceRequired) {
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }

    const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
    const callback = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), { token: null });
    expect({ status: callback.status, text: callback.text }).toMatchObject({ status: 200 });

    const connection = (await api.get(`/admin/connections/${key}`)).body;
    expect(connection).toMatchObject({ status: 'active' });
    if (entry.config) expect(connection.config).toEqual(entry.config);
    const token = await getToken(broker.url, apiKey, key);
    expect({ status: token.status, body: token.body }).toMatchObject({ status: 200 });
    expect((await resource(entry.id, entry.config, token.body.accessToken)).status).toBe(200);
    if (entry.metadata) {
      expect(token.body.metadata).toMatchObject(entry.metadata(sandboxUrl));
      expect(connection.metadata).toMatchObject(entry.metadata(sandboxUrl));
    }

    let accessToken: string = token.body.accessToken;
    for (let round = 1; round <= 2; round++) {
      if (profileOf(entry.id).earliestRefreshSeconds === undefined) {
        const refreshed = await api.post(`/admin/connections/${key}/refresh`);
        expect({ round, status: refreshed.status, body: refreshed.body }).toMatchObject({
          round,
          status: 200,
          body: { status: 'active' },
        });
      } else {
        // The broker does not ask before the provider's refresh window opens: let the token run out.
        await expireStoredToken(db.url, key);
        await allowRefresh(entry.id);
      }
      const next = await getToken(broker.url, apiKey, key);
      expect(next.status).toBe(200);
      expect(next.body.accessToken).not.toBe(accessToken);
      expect((await resource(entry.id, entry.config, next.body.accessToken)).status).toBe(200);
      if (entry.metadata) expect(next.body.metadata).toMatchObject(entry.metadata(sandboxUrl));
      accessToken = next.body.accessToken;
    }
    expect(counters(entry.id)).toMatchObject({
      codeExchanges: 1,
      refreshGrants: 2,
      refreshTokenReuses: 0,
      invalidClient: 0,
    });
    return { key, accessToken };
  }

  beforeAll(async () => {
    db = await createTestDatabase('catalogue');
    // A little latency keeps each herd's refresh in flight while the other readers arrive.
    sandbox = createSandbox({ autoApprove: false, tokenLatencyMs: 50 });
    sandboxUrl = await sandbox.listen(0);
    // Sage's five-minute tokens would come due for the scheduler while the suite counts upstream calls.
    sandbox.configure({ profiles: { sage: { accessTokenTtlSeconds: 3600 } } });
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
      // No background retries or reconciliation while the herds count upstream calls.
      BROKER_RECONCILE_INTERVAL_SECONDS: '3600',
    });
    api = admin(broker.url);
    apiKey = await createApiKey(broker.url);
    for (const entry of CASES) {
      const flow = connect(entry);
      flow.catch(() => undefined); // awaited (and reported) by the entry's own test
      flows.set(entry.id, flow);
    }
  });

  afterAll(async () => {
    await Promise.allSettled(flows.values());
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  it('the sandbox has a profile for every entry the broker lists (bar oauth2, bloomerang, bloom)', async () => {
    const listed = await api.get('/admin/providers');
    expect(listed.status).toBe(200);
    const ids = (listed.body as { id: string }[]).map((provider) => provider.id);
    const covered = new Set(CASES.map((entry) => entry.id));
    expect(ids.filter((id) => !['oauth2', 'bloomerang', 'bloom'].includes(id) && !covered.has(id))).toEqual(
      [],
    );
  });

  describe.each(CASES.map((entry) => [entry.id, entry] as const))('%s', (id, entry) => {
    it('authorizes through the sandbox, keeps its metadata, refreshes twice', async () => {
      await flows.get(id);
    });

    it(`answers ${HERD} concurrent readers of an expired token with one upstream refresh`, async () => {
      const { key } = await flows.get(id)!;
      await expireStoredToken(db.url, key);
      await allowRefresh(id);
      const before = counters(id);
      const answers = await Promise.all(
        Array.from({ length: HERD }, () => getToken(broker.url, apiKey, key)),
      );
      expect(answers.map((answer) => answer.status)).toEqual(Array(HERD).fill(200));
      expect(new Set(answers.map((answer) => answer.body.accessToken)).size).toBe(1);
      const after = counters(id);
      expect((after.tokenRequests.refresh_token ?? 0) - (before.tokenRequests.refresh_token ?? 0)).toBe(1);
      expect(after.refreshGrants - before.refreshGrants).toBe(1);
      expect(after.refreshTokenReuses).toBe(0);
      expect((await resource(id, entry.config, answers[0].body.accessToken)).status).toBe(200);
    });
  });

  describe('what the providers refuse', () => {
    it('a PKCE entry: the sandbox refuses the authorization without the S256 challenge the broker sends', async () => {
      const created = await api.post('/admin/connections', {
        key: 'pkce-stripped',
        integration: 'cat-canva',
      });
      expect(created.status).toBe(201);
      const url = new URL(created.body.authorizationUrl);
      expect(url.searchParams.get('code_challenge_method')).toBe('S256');
      url.searchParams.delete('code_challenge');
      url.searchParams.delete('code_challenge_method');
      const location = new URL(await authorizeAtSandbox(url.href, broker.url));
      expect(location.searchParams.get('error')).toBe('invalid_request');
      expect(location.searchParams.get('code')).toBeNull();
    });

    it('shopify: each connection talks to its own shop, and a token of one shop is refused at another', async () => {
      await flows.get('shopify');
      const created = await api.post('/admin/connections', {
        key: 'shop-b',
        integration: 'cat-shopify',
        config: { shop: 'bravo' },
      });
      expect(created.status).toBe(201);
      const url = new URL(created.body.authorizationUrl);
      expect(url.pathname).toBe('/shopify/bravo/authorize');
      const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
      expect(new URL(callbackUrl).searchParams.get('shop')).toBe('bravo.myshopify.com');
      const callback = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), {
        token: null,
      });
      expect(callback.status).toBe(200);
      const bravo = (await getToken(broker.url, apiKey, 'shop-b')).body.accessToken;
      expect((await resource('shopify', { shop: 'bravo' }, bravo)).status).toBe(200);
      expect((await resource('shopify', { shop: 'acme-store' }, bravo)).status).toBe(401);
      expect((await api.post('/admin/connections/shop-b/refresh')).body).toMatchObject({ status: 'active' });
    });

    it('xero: a spent refresh token works again only within the grace window (shortened to 1 s)', async () => {
      await flows.get('xero');
      sandbox.configure({ profiles: { xero: { graceSeconds: 1 } } });
      const spent = await storedRefreshToken(db.url, 'conn-xero');
      expect((await api.post('/admin/connections/conn-xero/refresh')).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const late = await replay('xero', spent);
      expect(late).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(counters('xero').refreshTokenReusesRefused).toBe(1);
      // Xero revokes nothing else: the broker's current token still refreshes.
      expect((await api.post('/admin/connections/conn-xero/refresh')).body).toMatchObject({
        status: 'active',
      });
    });

    it('box: a spent refresh token is refused; the broker never presented one twice', async () => {
      await flows.get('box');
      const spent = await storedRefreshToken(db.url, 'conn-box');
      expect((await api.post('/admin/connections/conn-box/refresh')).status).toBe(200);
      expect(await replay('box', spent)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(counters('box')).toMatchObject({ refreshTokenReuses: 1, refreshTokenReusesRefused: 1 });
      expect((await api.post('/admin/connections/conn-box/refresh')).body).toMatchObject({
        status: 'active',
      });
    });

    it.each(['gusto', 'calendly', 'sage', 'freshbooks', 'constant-contact', 'keap', 'myob', 'outreach'])(
      '%s: a spent refresh token is refused; the broker never presented one twice',
      async (id) => {
        const { key } = await flows.get(id)!;
        const spent = await storedRefreshToken(db.url, key);
        expect((await api.post(`/admin/connections/${key}/refresh`)).status).toBe(200);
        expect(await replay(id, spent)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
        expect(counters(id)).toMatchObject({ refreshTokenReuses: 1, refreshTokenReusesRefused: 1 });
        expect((await api.post(`/admin/connections/${key}/refresh`)).body).toMatchObject({
          status: 'active',
        });
      },
    );

    it('netsuite: the one refresh token is kept, and a token of one account is refused at another', async () => {
      const { key } = await flows.get('netsuite')!;
      const held = await storedRefreshToken(db.url, key);
      expect((await api.post(`/admin/connections/${key}/refresh`)).status).toBe(200);
      expect(await storedRefreshToken(db.url, key)).toBe(held);
      const current = (await getToken(broker.url, apiKey, key)).body.accessToken;
      expect((await resource('netsuite', { accountId: '1234567-sb1' }, current)).status).toBe(200);
      expect((await resource('netsuite', { accountId: '7654321' }, current)).status).toBe(401);
    });

    it('canva: replaying a spent refresh token revokes the lineage, and the broker asks for re-authorization', async () => {
      const { key, accessToken } = await flows.get('canva')!;
      const spent = await storedRefreshToken(db.url, key);
      expect((await api.post(`/admin/connections/${key}/refresh`)).status).toBe(200);
      const current = (await getToken(broker.url, apiKey, key)).body.accessToken;
      expect(current).not.toBe(accessToken);
      expect(await replay('canva', spent)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
      expect(counters('canva').lineageRevocations).toBe(1);
      expect((await resource('canva', undefined, current)).status).toBe(401);
      await api.post(`/admin/connections/${key}/refresh`);
      expect((await api.get(`/admin/connections/${key}`)).body).toMatchObject({
        status: 'needs_reauthorization',
      });
      expect((await getToken(broker.url, apiKey, key, 86_400)).status).toBe(409);
    });
    it('atlassian: a replay after the 10-minute leeway (shortened) invalidates every refresh token; the broker asks for re-authorization', async () => {
      const { key } = await flows.get('atlassian')!;
      sandbox.configure({ profiles: { atlassian: { graceSeconds: 0.5 } } });
      const spent = await storedRefreshToken(db.url, key);
      expect((await api.post(`/admin/connections/${key}/refresh`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 700));
      expect(await replay('atlassian', spent)).toMatchObject({
        status: 400,
        body: { error: 'invalid_grant' },
      });
      expect(counters('atlassian').lineageRevocations).toBe(1);
      await api.post(`/admin/connections/${key}/refresh`);
      expect((await api.get(`/admin/connections/${key}`)).body).toMatchObject({
        status: 'needs_reauthorization',
      });
    });

    it.each([
      ['slack', { ok: false, error: 'invalid_refresh_token' }],
      ['github-app', { error: 'bad_refresh_token' }],
      ['zoho', { error: 'invalid_code' }],
    ])(
      '%s: a dead refresh token answered with HTTP 200 and an error body is read as a refusal',
      async (id, refusal) => {
        const { key } = await flows.get(id)!;
        const entry = CASES.find((candidate) => candidate.id === id)!;
        sandbox.configure({ profiles: { [id]: { refreshTokenUnusedTtlSeconds: 0.5 } } });
        expect((await api.post(`/admin/connections/${key}/refresh`)).status).toBe(200);
        const dead = await storedRefreshToken(db.url, key);
        await new Promise((resolve) => setTimeout(resolve, 700));
        const upstream = await replay(id, dead, entry.config);
        expect(upstream).toMatchObject({ status: 200, body: refusal });
        await api.post(`/admin/connections/${key}/refresh`);
        expect((await api.get(`/admin/connections/${key}`)).body).toMatchObject({
          status: 'needs_reauthorization',
        });
        expect((await getToken(broker.url, apiKey, key, 86_400)).status).toBe(409);
      },
    );
  });

  describe('bad input', () => {
    it('an unknown provider id is a 400 naming it', async () => {
      const response = await api.post('/admin/integrations', {
        key: 'nowhere',
        provider: 'no-such-provider',
        clientId: 'id',
        clientSecret: 'secret',
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain('no-such-provider');
    });

    it.each([
      ['missing', undefined],
      ['malformed', { shop: 'not a shop!' }],
    ])('a %s config field is a 400 naming it', async (_label, config) => {
      await flows.get('shopify');
      const response = await api.post('/admin/connections', {
        key: `shop-${_label}`,
        integration: 'cat-shopify',
        ...(config ? { config } : {}),
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toEqual(expect.stringContaining('shop'));
    });

    it("a scope outside the entry's list is a 400 naming it", async () => {
      const { clientId, clientSecret } = profileClient({ id: 'github-app' });
      const response = await api.post('/admin/integrations', {
        key: 'github-scoped',
        provider: 'github-app',
        clientId,
        clientSecret,
        scopes: ['repo'],
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain('repo');
    });
  });

  /** Presents a refresh token at the profile directly, as a leaked or replayed copy would be. */
  async function replay(id: string, refreshToken: string, config?: Record<string, string>) {
    const profile = profileOf(id);
    const { clientId, clientSecret } = profileClient(profile);
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (profile.clientAuthentication === 'post') {
      form.set('client_id', clientId);
      form.set('client_secret', clientSecret);
    } else {
      headers.authorization = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    }
    headers.accept = 'application/json';
    const response = await fetch(`${sandboxUrl}${sandboxPath(id, config)}/token`, {
      method: 'POST',
      headers,
      body: form,
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }
});
