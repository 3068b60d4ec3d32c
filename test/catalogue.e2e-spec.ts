import { CATALOGUE, catalogueEntry } from '@broker/providers';
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
  /**
   * The integration's scopes: business scopes only, never what earns the refresh token (the broker
   * must ask that itself). Absent: the entry's defaultScopes.
   */
  readonly scopes?: string[];
  /** What the token answer's `metadata` must hold (the sandbox's URL fills `{sandbox}`). */
  readonly metadata?: (sandboxUrl: string) => Record<string, unknown>;
  /** Whether the broker must send a PKCE S256 challenge (the profile refuses an authorization without). */
  readonly pkceRequired?: boolean;
}

/**
 * What an entry needs beyond its catalogue data: config values, business scopes, metadata to check.
 * An entry not named here runs with its defaults, so a new catalogue entry joins every test below.
 */
const OVERRIDES: Record<string, Omit<CatalogueCase, 'id'>> = {
  google: { scopes: ['openid', 'email'] },
  microsoft: { config: { tenant: 'common' }, scopes: ['User.Read'] },
  salesforce: {
    scopes: ['api'],
    metadata: (sandboxUrl) => ({
      instance_url: `${sandboxUrl}/salesforce/instance`,
      id: expect.stringContaining(`${sandboxUrl}/salesforce/id/`),
    }),
  },
  hubspot: { scopes: ['crm.objects.contacts.read'] },
  xero: { scopes: ['accounting.transactions'] },
  quickbooks: { metadata: () => ({ realmId: '9130350000000001' }) },
  zoom: { scopes: ['meeting:read', 'user:read'] },
  slack: {
    scopes: ['chat:write', 'channels:read'],
    metadata: () => ({
      app_id: expect.any(String),
      bot_user_id: expect.any(String),
      team: { id: expect.stringMatching(/^T/), name: expect.any(String) },
    }),
  },
  atlassian: { scopes: ['read:jira-work'] },
  dropbox: { metadata: () => ({ account_id: expect.stringMatching(/^dbid:/) }) },
  docusign: { scopes: ['signature'] },
  shopify: { config: { shop: 'acme-store' }, scopes: ['read_orders', 'write_products'] },
  zendesk: { config: { subdomain: 'acme' }, scopes: ['read', 'write'] },
  pipedrive: {
    metadata: (sandboxUrl) => ({ api_domain: expect.stringContaining(`${sandboxUrl}/pipedrive/api/`) }),
  },
  zoho: {
    config: { domain: 'eu' },
    scopes: ['ZohoCRM.modules.ALL'],
    metadata: () => ({ api_domain: 'https://www.zohoapis.eu' }),
  },
  x: { scopes: ['tweet.read', 'users.read'], pkceRequired: true },
  canva: { scopes: ['design:meta:read'], pkceRequired: true },
  airtable: { scopes: ['data.records:read'], pkceRequired: true },
  netsuite: {
    config: { accountId: '1234567-sb1' },
    scopes: ['rest_webservices'],
    metadata: () => ({ company: '1234567-sb1', role: '3', entity: '4622' }),
  },
  calendly: {
    metadata: () => ({
      owner: expect.stringMatching(/^https:\/\/api\.calendly\.com\/users\//),
      organization: expect.stringMatching(/^https:\/\/api\.calendly\.com\/organizations\//),
    }),
  },
  sage: {
    scopes: ['full_access'],
    metadata: () => ({ country: 'GB', requested_by_id: expect.any(String) }),
  },
  'constant-contact': { scopes: ['contact_data'] },
  myob: {
    scopes: ['sme-company-file'],
    metadata: () => ({
      businessId: expect.stringMatching(/^[0-9a-f-]{24}[0-9A-F]{12}$/),
      businessName: 'Sandbox Company File',
    }),
  },
  outreach: { scopes: ['prospects.read'] },
  asana: { scopes: ['tasks:read'], metadata: () => ({ data: { gid: expect.any(String) } }) },
};

/** Every catalogue entry the sandbox has a profile for (oauth2, Bloomerang and Bloom have their own suites). */
const CASES: readonly CatalogueCase[] = CATALOGUE.filter(
  (entry) => !['oauth2', 'bloomerang', 'bloom'].includes(entry.id),
).map((entry) => ({ id: entry.id, pkceRequired: entry.pkce === 'S256', ...OVERRIDES[entry.id] }));

/** The scopes and parameters that earn each entry's refresh token: the broker adds them itself. */
const earningScopes = (id: string) => catalogueEntry(id)?.refreshEarning?.scopes ?? [];

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
    for (const scope of entry.scopes ?? []) expect(earningScopes(entry.id)).not.toContain(scope);
    // What earns the refresh token is asked although the integration names business scopes only.
    const asked = (authorizationUrl.searchParams.get('scope') ?? '').split(/[ ,]/);
    for (const scope of earningScopes(entry.id)) expect(asked).toContain(scope);
    if (entry.pkceRequired) {
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }

    const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
    const callback = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), { token: null });
    expect({ status: callback.status, text: callback.text }).toMatchObject({ status: 200 });

    const connection = (await api.get(`/admin/connections/${key}`)).body;
    // The grant came with a refresh token: nothing to say on the connection.
    expect(connection).toMatchObject({ status: 'active', lastError: null });
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

  describe.each(['salesforce', 'xero', 'x'])('%s: the admin names business scopes only', (id) => {
    it('the grant carries a refresh token, and a refresh hours later still works', async () => {
      // Only its integration is needed here (the flow's own test reports the flow).
      await flows.get(id)!.catch(() => undefined);
      const entry = CASES.find((candidate) => candidate.id === id)!;
      const key = `biz-${id}`;
      const created = await api.post('/admin/connections', { key, integration: `cat-${id}` });
      expect(created.status).toBe(201);
      const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
      const callback = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), {
        token: null,
      });
      expect({ status: callback.status, body: callback.body }).toMatchObject({
        status: 200,
        body: { status: 'active' },
      });
      expect(callback.body.warning).toBeUndefined();
      const first = await getToken(broker.url, apiKey, key);
      expect(first.status).toBe(200);
      // Hours later: the access token has expired, at the broker and at the provider.
      await expireStoredToken(db.url, key);
      await fetch(`${sandboxUrl}/_sandbox/expire-access-tokens?profile=${id}`, { method: 'POST' });
      const later = await getToken(broker.url, apiKey, key);
      expect({ status: later.status, body: later.body }).toMatchObject({ status: 200 });
      expect(later.body.accessToken).not.toBe(first.body.accessToken);
      expect((await resource(id, entry.config, later.body.accessToken)).status).toBe(200);
      expect((await api.get(`/admin/connections/${key}`)).body).toMatchObject({
        status: 'active',
        lastError: null,
      });
    });
  });

  describe('a grant without the refresh token the provider issues', () => {
    it('is said on the connection, on the callback page and in a metric, not left silently active', async () => {
      // A generic oauth2 integration at the Salesforce profile that does not ask refresh_token: the
      // admin said the provider rotates nothing, so a refresh token is expected.
      const { clientId, clientSecret } = profileClient({ id: 'salesforce' });
      const integration = await api.post('/admin/integrations', {
        key: 'sf-no-offline',
        provider: 'oauth2',
        grantType: 'authorization_code',
        clientId,
        clientSecret,
        tokenAuthMethod: 'client_secret_post',
        scopes: ['api'],
        refreshTokenRotation: 'none',
        authorizationUrl: `${sandboxUrl}/salesforce/authorize`,
        tokenUrl: `${sandboxUrl}/salesforce/token`,
      });
      expect({ status: integration.status, body: integration.body }).toMatchObject({ status: 201 });
      const created = await api.post('/admin/connections', { key: 'sf-no-rt', integration: 'sf-no-offline' });
      expect(created.status).toBe(201);
      const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
      const page = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), {
        token: null,
        headers: { accept: 'text/html' },
      });
      expect(page.status).toBe(200);
      expect(page.text).toContain('Connected without a refresh token');
      expect(page.text).toContain('&#34;api&#34;');
      const connection = (await api.get('/admin/connections/sf-no-rt')).body;
      expect(connection).toMatchObject({
        status: 'active',
        lastErrorCode: 'no_refresh_token',
        lastError: expect.stringContaining('the grant came without a refresh token (asked: scopes "api")'),
      });
      const metrics = await (await fetch(`${broker.url}/metrics`)).text();
      expect(metrics).toMatch(/broker_authorizations_without_refresh_token_total\{provider="oauth2"\} 1/);

      // With refreshEarning the same generic integration asks refresh_token and gets one.
      const patched = await api.patch('/admin/integrations/sf-no-offline', {
        refreshEarning: { scopes: ['refresh_token'] },
      });
      expect({ status: patched.status, body: patched.body }).toMatchObject({
        status: 200,
        body: { refreshEarning: { scopes: ['refresh_token'] } },
      });
      const again = await api.post('/admin/connections/sf-no-rt/authorize');
      expect(again.status).toBeLessThan(300);
      expect(new URL(again.body.authorizationUrl).searchParams.get('scope')).toBe('api refresh_token');
      const secondCallback = await authorizeAtSandbox(again.body.authorizationUrl, broker.url);
      const json = await request(broker.url, 'GET', secondCallback.slice(broker.url.length), { token: null });
      expect(json.body).toMatchObject({ status: 'active' });
      expect(json.body.warning).toBeUndefined();
      expect((await api.get('/admin/connections/sf-no-rt')).body).toMatchObject({ lastError: null });
    });

    it('GET /admin/providers shows the default scopes and what earns the refresh token apart', async () => {
      const listed = (await api.get('/admin/providers')).body as Record<string, any>[];
      const salesforce = listed.find((provider) => provider.id === 'salesforce')!;
      expect(salesforce).toMatchObject({
        defaultScopes: ['api'],
        refreshEarning: { scopes: ['refresh_token'] },
        sources: expect.arrayContaining([expect.objectContaining({ rule: 'refreshEarning' })]),
      });
      expect(listed.find((provider) => provider.id === 'google')).toMatchObject({
        refreshEarning: { authorizationParams: { access_type: 'offline', prompt: 'consent' } },
      });
    });

    it('refreshEarning is refused with a 400 naming what is wrong', async () => {
      const response = await api.post('/admin/integrations', {
        key: 'bad-earning',
        provider: 'oauth2',
        grantType: 'authorization_code',
        clientId: 'id',
        clientSecret: 'secret',
        authorizationUrl: `${sandboxUrl}/salesforce/authorize`,
        tokenUrl: `${sandboxUrl}/salesforce/token`,
        refreshEarning: { authorizationParams: { state: 'x' } },
      });
      expect(response.status).toBe(400);
      expect(response.body.message).toContain('refreshEarning.authorizationParams may not set "state"');
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

    it('box: a spent refresh token is refused once its replacement is in use; the broker never presented one twice', async () => {
      await flows.get('box');
      const spent = await storedRefreshToken(db.url, 'conn-box');
      // Two refreshes: the first spends the stored token, the second its replacement.
      for (let round = 0; round < 2; round++) {
        expect((await api.post('/admin/connections/conn-box/refresh')).status).toBe(200);
      }
      expect(counters('box').refreshTokenReuses).toBe(0);
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
