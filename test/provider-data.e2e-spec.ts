import { createSandbox, profileClient, type Sandbox } from '../apps/sandbox/src/sandbox';
import { startAgent, type AgentProcess } from './support/agent-process';
import { BrokerProcess, freePort, startBroker } from './support/broker-process';
import { admin, getToken, request } from './support/http';
import { authorizeAtSandbox, createApiKey } from './support/provider-flows';
import { createTestDatabase, query } from './support/test-database';

/**
 * Providers described as data (`provider: "oauth2"` with the catalogue's knobs) against the strict
 * sandbox profiles, the earliest-refresh rule on the token path, and metadata through the agent.
 * (test/catalogue.e2e-spec.ts drives every catalogue entry; this suite the engine's knobs.)
 */
const REDIS_DB = 11;

describe('providers described as data, earliest refresh, metadata through the agent', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let broker: BrokerProcess;
  let agent: AgentProcess;
  let api: ReturnType<typeof admin>;
  let apiKey: string;

  beforeAll(async () => {
    db = await createTestDatabase('provider_data');
    sandbox = createSandbox({ autoApprove: false });
    sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: `redis://127.0.0.1:6379/${REDIS_DB}`,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
      BROKER_RECONCILE_INTERVAL_SECONDS: '3600',
    });
    api = admin(broker.url);
    apiKey = await createApiKey(broker.url);
    agent = await startAgent({ AGENT_BROKER_URL: broker.url, AGENT_API_KEY: apiKey });
  });

  afterAll(async () => {
    await agent?.stop();
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  /** Creates the connection, plays the user at the sandbox, completes the callback. */
  async function authorize(key: string, integration: string, config?: Record<string, string>) {
    const created = await api.post('/admin/connections', { key, integration, ...(config ? { config } : {}) });
    expect({ status: created.status, body: created.body }).toMatchObject({ status: 201 });
    const callbackUrl = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
    const callback = await request(broker.url, 'GET', callbackUrl.slice(broker.url.length), { token: null });
    expect({ status: callback.status, text: callback.text }).toMatchObject({ status: 200 });
    return new URL(created.body.authorizationUrl);
  }

  it('an oauth2 integration with a config placeholder, authorization params, comma scopes and metadata (Zoho as data)', async () => {
    const { clientId, clientSecret } = profileClient({ id: 'zoho' });
    const created = await api.post('/admin/integrations', {
      key: 'crm-as-data',
      provider: 'oauth2',
      grantType: 'authorization_code',
      clientId,
      clientSecret,
      authorizationUrl: `${sandboxUrl}/zoho/{domain}/authorize`,
      tokenUrl: `${sandboxUrl}/zoho/{domain}/token`,
      tokenAuthMethod: 'client_secret_post',
      authorizationParams: { access_type: 'offline', prompt: 'consent' },
      scopeSeparator: ',',
      scopes: ['ZohoCRM.modules.ALL', 'ZohoCRM.users.READ'],
      metadata: { tokenResponse: ['api_domain'] },
      config: [{ name: 'domain', pattern: 'com|eu|in', description: 'the data centre' }],
      refreshTokenRotation: 'none',
      errorCodes: { invalid_code: 'invalid_grant' },
    });
    expect({ status: created.status, body: created.body }).toMatchObject({
      status: 201,
      body: {
        provider: 'oauth2',
        scopeSeparator: ',',
        metadata: { tokenResponse: ['api_domain'], callback: [] },
      },
    });

    const refused = await api.post('/admin/connections', {
      key: 'crm-de',
      integration: 'crm-as-data',
      config: { domain: 'de' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain('config.domain must match');
    expect((await api.get('/admin/connections/crm-de')).status).toBe(404);
    const unknown = await api.post('/admin/connections', {
      key: 'crm-x',
      integration: 'crm-as-data',
      config: { domain: 'eu', shard: '2' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toContain('config.shard');

    const url = await authorize('crm-eu', 'crm-as-data', { domain: 'eu' });
    expect(url.pathname).toBe('/zoho/eu/authorize');
    expect(url.searchParams.get('scope')).toBe('ZohoCRM.modules.ALL,ZohoCRM.users.READ');
    expect(url.searchParams.get('access_type')).toBe('offline');

    const token = await getToken(broker.url, apiKey, 'crm-eu');
    expect(token.status).toBe(200);
    expect(token.body.metadata).toEqual({ api_domain: 'https://www.zohoapis.eu' });
    const view = (await api.get('/admin/connections/crm-eu')).body;
    expect(view).toMatchObject({
      status: 'active',
      config: { domain: 'eu' },
      metadata: { api_domain: 'https://www.zohoapis.eu' },
    });

    // A refresh answer repeats api_domain: kept; Zoho's refresh answer has no refresh_token: the old one stays.
    const before = await query<{ refresh_token: string }>(
      db.url,
      `SELECT refresh_token FROM connections WHERE key = 'crm-eu'`,
    );
    expect((await api.post('/admin/connections/crm-eu/refresh')).body).toMatchObject({ status: 'active' });
    const after = await query<{ refresh_token: string }>(
      db.url,
      `SELECT refresh_token FROM connections WHERE key = 'crm-eu'`,
    );
    expect(after[0].refresh_token).not.toBeNull();
    expect(before[0].refresh_token).not.toBeNull();
    const refreshed = await getToken(broker.url, apiKey, 'crm-eu');
    expect(refreshed.body.accessToken).not.toBe(token.body.accessToken);
    expect(refreshed.body.metadata).toEqual({ api_domain: 'https://www.zohoapis.eu' });

    // The agent passes the answer through unchanged, metadata included (and from its cache).
    const viaAgent = await request(agent.url, 'GET', '/tokens/crm-eu', { token: null });
    expect(viaAgent.status).toBe(200);
    expect(viaAgent.body).toMatchObject({
      accessToken: refreshed.body.accessToken,
      metadata: { api_domain: 'https://www.zohoapis.eu' },
    });
    const cached = await request(agent.url, 'GET', '/tokens/crm-eu', { token: null });
    expect(cached.body.metadata).toEqual({ api_domain: 'https://www.zohoapis.eu' });
  });

  it('an oauth2 integration with PKCE S256: the verifier kept with the state reaches the code exchange (Canva as data)', async () => {
    const { clientId, clientSecret } = profileClient({ id: 'canva' });
    const created = await api.post('/admin/integrations', {
      key: 'design-as-data',
      provider: 'oauth2',
      grantType: 'authorization_code',
      clientId,
      clientSecret,
      authorizationUrl: `${sandboxUrl}/canva/authorize`,
      tokenUrl: `${sandboxUrl}/canva/token`,
      pkce: 'S256',
      scopes: ['design:meta:read'],
      refreshTokenRotation: 'single_use',
    });
    expect(created.status).toBe(201);
    const url = await authorize('design-1', 'design-as-data');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    const stored = await query<{ code_verifier: string | null }>(
      db.url,
      `SELECT code_verifier FROM oauth_states s JOIN connections c ON c.id = s.connection_id WHERE c.key = 'design-1'`,
    );
    // Sealed at rest, never the verifier itself.
    expect(stored[0].code_verifier).toMatch(/^v1\./);
    const token = await getToken(broker.url, apiKey, 'design-1');
    expect(token.status).toBe(200);
    // No metadata kept: none in the answer.
    expect(token.body).not.toHaveProperty('metadata');
  });

  it('Exact Online refuses an early refresh: a read asking more than the token has gets it as it is, with no upstream call', async () => {
    const { clientId, clientSecret } = profileClient({ id: 'exact-online' });
    const created = await api.post('/admin/integrations', {
      key: 'exact',
      provider: 'exact-online',
      clientId,
      clientSecret,
      authorizationUrl: `${sandboxUrl}/exact-online/authorize`,
      tokenUrl: `${sandboxUrl}/exact-online/token`,
    });
    expect(created.status).toBe(201);
    await authorize('exact-1', 'exact');
    const first = await getToken(broker.url, apiKey, 'exact-1');
    expect(first.status).toBe(200);
    const requests = () => sandbox.stats().profiles['exact-online'].tokenRequests.refresh_token ?? 0;
    const before = requests();
    for (let i = 0; i < 3; i++) {
      const read = await getToken(broker.url, apiKey, 'exact-1', 3600);
      expect(read.status).toBe(200);
      expect(read.body.accessToken).toBe(first.body.accessToken);
      expect(read.body.expiresIn).toBeLessThan(3600);
    }
    expect(requests()).toBe(before);
    const view = (await api.get('/admin/connections/exact-1')).body;
    // The scheduler plans the refresh inside the 30 s the provider accepts.
    expect(Date.parse(view.expiresAt) - Date.parse(view.nextRefreshAt)).toBeLessThan(30_000);
    expect(sandbox.stats().profiles['exact-online']).toMatchObject({ earlyRefreshRefused: 0 });
  });

  it('lists the catalogue with each entry’s config fields, scopes and documentation', async () => {
    const listed = await api.get('/admin/providers');
    expect(listed.status).toBe(200);
    const shopify = (listed.body as { id: string }[]).find((entry) => entry.id === 'shopify');
    expect(shopify).toMatchObject({
      name: 'Shopify',
      grantTypes: ['authorization_code'],
      config: [{ name: 'shop', pattern: expect.any(String), description: expect.any(String) }],
      docs: expect.arrayContaining([expect.stringMatching(/^https:\/\/shopify\.dev\//)]),
    });
    expect((await request(broker.url, 'GET', '/admin/providers', { token: null })).status).toBe(401);
  });
});
