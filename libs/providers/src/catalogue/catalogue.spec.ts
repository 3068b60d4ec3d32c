import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { CATALOGUE, CATALOGUE_IDS, type CatalogueEntry, type CatalogueRule } from '.';
import { protocolFor } from '../oauth-protocol';
import {
  bindConnectionConfig,
  checkConnectionConfig,
  IntegrationProviderConfig,
  ProviderConfigError,
  resolveProvider,
  ResolvedProvider,
} from '../provider-config';
import {
  NeedsReauthorizationError,
  ProviderMisconfiguredError,
  TransientProviderError,
} from '../provider-errors';

/** The ids the contract names; the catalogue may have more. */
const CONTRACT_IDS = [
  'bloomerang',
  'bloom',
  'oauth2',
  'google',
  'microsoft',
  'salesforce',
  'hubspot',
  'xero',
  'quickbooks',
  'zoom',
  'slack',
  'atlassian',
  'github-app',
  'dropbox',
  'box',
  'docusign',
  'shopify',
  'zendesk',
  'pipedrive',
  'zoho',
  'x',
  'canva',
  'airtable',
  'gusto',
  'netsuite',
  'calendly',
  'sage',
  'freshbooks',
  'constant-contact',
  'keap',
  'myob',
  'outreach',
  'asana',
];

/** The second wave: written with a source for every rule from the start. */
const SOURCED_IDS = [
  'gusto',
  'netsuite',
  'calendly',
  'sage',
  'freshbooks',
  'constant-contact',
  'keap',
  'myob',
  'outreach',
  'asana',
];

/** The rules an entry sets, each of which its provider's documentation must back. */
function rulesSet(entry: CatalogueEntry): CatalogueRule[] {
  const set: [CatalogueRule, unknown][] = [
    ['rotation', entry.refreshToken?.rotation],
    ['graceSeconds', entry.refreshToken?.graceSeconds],
    ['refreshTokenLifetime', entry.refreshToken?.lifetimeSeconds],
    ['refreshTokenIdle', entry.refreshToken?.idleSeconds],
    ['accessTokenLifetime', entry.accessTokenSeconds],
    ['refreshWindow', entry.refreshWindowSeconds],
    ['clientAuth', entry.tokenAuthMethod],
    ['refreshEarning', entry.refreshEarning],
    ['pkce', entry.pkce],
  ];
  return set.filter(([, value]) => value !== undefined).map(([rule]) => rule);
}

const CLIENT = { clientId: 'client-1', clientSecret: 'secret-1' };

describe('the provider catalogue', () => {
  it('has every provider the contract names, once each, each citing https documentation', () => {
    expect(CATALOGUE_IDS).toEqual(expect.arrayContaining(CONTRACT_IDS));
    expect(new Set(CATALOGUE_IDS).size).toBe(CATALOGUE_IDS.length);
    for (const entry of CATALOGUE) {
      expect(entry.docs.length).toBeGreaterThan(0);
      for (const url of entry.docs) expect(new URL(url).protocol).toBe('https:');
    }
  });

  it.each(SOURCED_IDS)('%s: every rule it sets has its source, a sentence or what it rests on', (id) => {
    const entry = CATALOGUE.find((candidate) => candidate.id === id)!;
    const sources = entry.sources ?? [];
    // What earns the refresh token is always sourced, even where nothing beyond the code exchange does.
    expect(new Set(sources.map((source) => source.rule))).toEqual(
      new Set([...rulesSet(entry), 'refreshEarning']),
    );
    for (const source of sources) {
      expect(new URL(source.url).protocol).toBe('https:');
      // Exactly one of the two: the page's sentence, or why the rule stands without one.
      expect([source.quote, source.unverified].filter((text) => text?.trim()).length).toBe(1);
    }
  });

  it.each(CATALOGUE.filter((entry) => !['bloom', 'oauth2'].includes(entry.id)).map((entry) => [entry.id]))(
    '%s resolves from its preset alone, every URL placeholder being one of its config fields',
    (id) => {
      const resolved = resolveProvider({ provider: id });
      expect(resolved.kind).toBe(id);
      const entry = CATALOGUE.find((candidate) => candidate.id === id)!;
      const values = Object.fromEntries((entry.config ?? []).map((field) => [field.name, 'abc']));
      const bound = bindConnectionConfig(resolved, entry.config?.length ? values : null);
      expect(bound.tokenUrl).not.toMatch(/[{}]/);
      expect(bound.authorizationUrl ?? '').not.toMatch(/[{}]/);
    },
  );

  it('checks a connection config against the entry: required, pattern, nothing else', () => {
    const shopify = resolveProvider({ provider: 'shopify' });
    expect(() => checkConnectionConfig(shopify, undefined)).toThrow('config.shop is required for Shopify');
    expect(() => checkConnectionConfig(shopify, { shop: 'acme.evil.example/x' })).toThrow(
      'config.shop must match',
    );
    expect(() => checkConnectionConfig(shopify, { shop: 'acme', region: 'eu' })).toThrow(
      'config.region is not a setting of Shopify (it takes shop)',
    );
    expect(checkConnectionConfig(shopify, { shop: 'acme-1' })).toEqual({ shop: 'acme-1' });
    expect(() => checkConnectionConfig(resolveProvider({ provider: 'google' }), { shop: 'a' })).toThrow(
      'config.shop: Google takes no config',
    );
    expect(checkConnectionConfig(resolveProvider({ provider: 'google' }), undefined)).toBeNull();
  });

  it('substitutes config values URL-encoded into the entry URLs and into overrides', () => {
    const zoho = bindConnectionConfig(resolveProvider({ provider: 'zoho' }), { domain: 'com.au' });
    expect(zoho.tokenUrl).toBe('https://accounts.zoho.com.au/oauth/v2/token');
    const oauth2 = resolveProvider({
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: 'http://127.0.0.1:4000/p/{tenant}/authorize',
      tokenUrl: 'http://127.0.0.1:4000/p/{tenant}/token',
      config: [{ name: 'tenant', pattern: '.+', description: 'any' }],
    });
    expect(bindConnectionConfig(oauth2, { tenant: 'a b/c' }).tokenUrl).toBe(
      'http://127.0.0.1:4000/p/a%20b%2Fc/token',
    );
    expect(() => bindConnectionConfig(oauth2, null)).toThrow('the connection has no config.tenant');
    const shopify = resolveProvider({
      provider: 'shopify',
      tokenUrl: 'http://127.0.0.1:4000/shopify/{shop}/token',
      authorizationUrl: 'http://127.0.0.1:4000/shopify/{shop}/authorize',
    });
    expect(bindConnectionConfig(shopify, { shop: 'acme' }).tokenUrl).toBe(
      'http://127.0.0.1:4000/shopify/acme/token',
    );
    expect(shopify.codeExchangeParams).toEqual({ expiring: '1' });
  });

  it.each<[IntegrationProviderConfig, string]>([
    [
      { provider: 'github-app', scopes: ['repo'] },
      'GitHub App (user access tokens) takes no scopes ("repo" given)',
    ],
    [{ provider: 'bloomerang', scopes: ['Admin'] }, 'Bloomerang scope must be one of'],
    [
      { provider: 'quickbooks', scopes: ['com.intuit.quickbooks.payroll'] },
      '"com.intuit.quickbooks.payroll" is not a scope QuickBooks Online (Intuit) allows',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: 'https://a.example/t',
        allowedScopes: ['read'],
        scopes: ['read', 'admin'],
      },
      '"admin" is not a scope this provider allows (read)',
    ],
    [
      { provider: 'shopify', tokenUrl: 'https://{store}.example/token' },
      'tokenUrl: {store} is not a config field',
    ],
    [{ provider: 'google', pkce: 'none' }, 'pkce applies to provider "oauth2" only'],
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://a.example/a',
        tokenUrl: 'https://a.example/t',
        authorizationParams: { state: 'x' },
      },
      'authorizationParams may not set "state"',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://a.example/a',
        tokenUrl: 'https://a.example/t',
        metadata: { tokenResponse: ['refresh_token'] },
      },
      'metadata.tokenResponse: "refresh_token" is a secret',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://{x}.example/a',
        tokenUrl: 'https://a.example/t',
      },
      'authorizationUrl: {x} is not a config field',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'client_credentials',
        tokenUrl: 'https://a.example/t',
        config: [{ name: 'x', pattern: '(', description: 'd' }],
      },
      'config.x.pattern is not a valid regular expression',
    ],
  ])('refuses %p', (config, message) => {
    expect(() => resolveProvider(config)).toThrow(ProviderConfigError);
    expect(() => resolveProvider(config)).toThrow(message);
  });
});

type Responder = (req: IncomingMessage, body: URLSearchParams, res: ServerResponse) => void;
const json =
  (status: number, body: unknown): Responder =>
  (_req, _body, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

describe('catalogue entries on the wire', () => {
  let server: Server;
  let base: string;
  let respond: Responder = json(200, {});
  let forms: URLSearchParams[] = [];
  const protocol = protocolFor('oauth2');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        const form = new URLSearchParams(text);
        forms.push(form);
        respond(req, form, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    forms = [];
  });

  const entry = (id: string, extra: Partial<IntegrationProviderConfig> = {}): ResolvedProvider =>
    bindConnectionConfig(
      resolveProvider({
        provider: id,
        authorizationUrl: `${base}/${id}/authorize`,
        tokenUrl: `${base}/${id}/token`,
        ...extra,
      }),
      null,
    );

  it('sends an S256 challenge of the verifier, the entry parameters, and the verifier with the code', async () => {
    const google = entry('google');
    const pkce = await protocol.newPkce(google);
    expect(pkce).toBeDefined();
    const url = new URL(
      protocol.authorizationUrl(google, CLIENT, {
        state: 's',
        redirectUri: 'http://localhost/oauth/callback',
        scopes: ['a', 'b'],
        codeChallenge: pkce!.codeChallenge,
      }),
    );
    const expected = createHash('sha256').update(pkce!.codeVerifier).digest('base64url');
    expect(url.searchParams.get('code_challenge')).toBe(expected);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('scope')).toBe('a b');
    respond = json(200, { access_token: 'at', token_type: 'Bearer', expires_in: 3599 });
    await protocol.exchangeCode(google, CLIENT, {
      code: 'c',
      redirectUri: 'http://localhost/oauth/callback',
      codeVerifier: pkce!.codeVerifier,
    });
    expect(forms[0].get('code_verifier')).toBe(pkce!.codeVerifier);
    expect(await protocol.newPkce(entry('hubspot'))).toBeUndefined();
  });

  it('joins scopes with a comma where the entry says so', () => {
    const url = new URL(
      protocol.authorizationUrl(entry('slack'), CLIENT, {
        state: 's',
        redirectUri: 'http://localhost/cb',
        scopes: ['chat:write', 'channels:read'],
      }),
    );
    expect(url.searchParams.get('scope')).toBe('chat:write,channels:read');
  });

  it('asks Shopify for an expiring token and reads its answer without token_type', async () => {
    respond = json(200, {
      access_token: 'shpat',
      scope: 'read_orders',
      expires_in: 3600,
      refresh_token: 'r1',
      refresh_token_expires_in: 7_776_000,
    });
    const shopify = bindConnectionConfig(
      resolveProvider({
        provider: 'shopify',
        authorizationUrl: `${base}/shopify/{shop}/a`,
        tokenUrl: `${base}/shopify/{shop}/t`,
      }),
      { shop: 'acme' },
    );
    const answer = await protocol.exchangeCode(shopify, CLIENT, {
      code: 'c',
      redirectUri: 'http://localhost/cb',
    });
    expect(forms.at(-1)!.get('expiring')).toBe('1');
    expect(answer).toMatchObject({
      accessToken: 'shpat',
      tokenType: 'Bearer',
      refreshToken: 'r1',
      refreshTokenExpiresIn: 7_776_000,
    });
  });

  it('reads Slack: token_type bot is a bearer token, team kept as metadata, ok:false errors classified', async () => {
    respond = json(200, {
      ok: true,
      access_token: 'xoxe.xoxb-1',
      token_type: 'bot',
      expires_in: 43_200,
      refresh_token: 'xoxe-1',
      team: { id: 'T1', name: 'Acme' },
      app_id: 'A1',
      bot_user_id: 'U1',
      enterprise: { id: 'E1', access_token: 'xoxp-leak', nested: [{ refresh_token: 'xoxe-leak', ok: 1 }] },
    });
    const slack = entry('slack');
    const tokens = await protocol.refresh(slack, CLIENT, { refreshToken: 'xoxe-0' });
    expect(tokens.tokenType).toBe('Bearer');
    // A secret nested in a kept field is never kept.
    expect(tokens.metadata).toEqual({
      team: { id: 'T1', name: 'Acme' },
      app_id: 'A1',
      bot_user_id: 'U1',
      enterprise: { id: 'E1', nested: [{ ok: 1 }] },
    });
    respond = json(200, { ok: false, error: 'invalid_refresh_token' });
    await expect(protocol.refresh(slack, CLIENT, { refreshToken: 'xoxe-0' })).rejects.toThrow(
      NeedsReauthorizationError,
    );
    respond = json(200, { ok: false, error: 'ratelimited' });
    await expect(protocol.refresh(slack, CLIENT, { refreshToken: 'xoxe-0' })).rejects.toThrow(
      TransientProviderError,
    );
    respond = json(200, { ok: false, error: 'bad_client_secret' });
    await expect(protocol.refresh(slack, CLIENT, { refreshToken: 'xoxe-0' })).rejects.toThrow(
      ProviderMisconfiguredError,
    );
  });

  it('classifies GitHub and Zoho errors sent as HTTP 200, and an error that is an object', async () => {
    respond = json(200, {
      error: 'bad_refresh_token',
      error_description: 'The refresh token passed is incorrect or expired.',
    });
    await expect(protocol.refresh(entry('github-app'), CLIENT, { refreshToken: 'ghr_1' })).rejects.toThrow(
      NeedsReauthorizationError,
    );
    respond = json(200, { error: 'invalid_code' });
    await expect(
      protocol.refresh(
        bindConnectionConfig(
          resolveProvider({
            provider: 'zoho',
            tokenUrl: `${base}/zoho/{domain}/t`,
            authorizationUrl: `${base}/zoho/{domain}/a`,
          }),
          { domain: 'eu' },
        ),
        CLIENT,
        { refreshToken: 'z' },
      ),
    ).rejects.toThrow(NeedsReauthorizationError);
    respond = json(400, { error: { code: 'invalid_grant', message: 'expired' } });
    await expect(protocol.refresh(entry('box'), CLIENT, { refreshToken: 'b' })).rejects.toThrow(
      NeedsReauthorizationError,
    );
    respond = json(503, { error: { code: 'unavailable' } });
    await expect(protocol.refresh(entry('box'), CLIENT, { refreshToken: 'b' })).rejects.toThrow(
      TransientProviderError,
    );
  });

  it('assumes the entry lifetime when Salesforce omits expires_in, and keeps its instance_url', async () => {
    respond = json(200, {
      access_token: '00D!x',
      token_type: 'Bearer',
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00D/005',
      issued_at: '1',
    });
    const tokens = await protocol.refresh(
      entry('salesforce'),
      CLIENT,
      { refreshToken: 'r' },
      { defaultExpiresInSeconds: 3600 },
    );
    expect(tokens).toMatchObject({ expiresIn: 7200, expiresInDefaulted: true });
    expect(tokens.metadata).toEqual({
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00D/005',
    });
  });

  it('reads QuickBooks x_refresh_token_expires_in as the refresh token lifetime', async () => {
    respond = json(200, {
      access_token: 'a',
      token_type: 'bearer',
      expires_in: 3600,
      refresh_token: 'r2',
      x_refresh_token_expires_in: 8_726_400,
    });
    const tokens = await protocol.refresh(entry('quickbooks'), CLIENT, { refreshToken: 'r1' });
    expect(tokens.refreshTokenExpiresIn).toBe(8_726_400);
    // QuickBooks keeps realmId from the callback only: nothing from the answer.
    expect(tokens.metadata).toBeUndefined();
  });

  it('sends the oauth2 refreshParams and codeExchangeParams an admin gave', async () => {
    const custom = resolveProvider({
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: `${base}/a`,
      tokenUrl: `${base}/t`,
      refreshParams: { audience: 'api' },
      codeExchangeParams: { expiring: '1' },
      scopeSeparator: ',',
    });
    respond = json(200, { access_token: 'a', token_type: 'Bearer', expires_in: 60 });
    await protocol.refresh(custom, CLIENT, { refreshToken: 'r', scopes: ['x', 'y'] });
    expect(forms[0].get('audience')).toBe('api');
    expect(forms[0].get('scope')).toBe('x,y');
    await protocol.exchangeCode(custom, CLIENT, { code: 'c', redirectUri: 'http://localhost/cb' });
    expect(forms[1].get('expiring')).toBe('1');
    expect(forms[1].get('audience')).toBeNull();
  });
  it('talks to each NetSuite account at its own host, with HTTP Basic and a PKCE challenge', async () => {
    const netsuite = bindConnectionConfig(resolveProvider({ provider: 'netsuite' }), {
      accountId: '1234567-sb1',
    });
    expect(netsuite.tokenUrl).toBe(
      'https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token',
    );
    expect(netsuite.authorizationUrl).toBe(
      'https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl',
    );
    expect(() => checkConnectionConfig(netsuite, { accountId: '1234567.evil.example' })).toThrow(
      'config.accountId must match',
    );
    const overridden = bindConnectionConfig(
      resolveProvider({
        provider: 'netsuite',
        authorizationUrl: `${base}/netsuite/{accountId}/authorize`,
        tokenUrl: `${base}/netsuite/{accountId}/token`,
      }),
      { accountId: '1234567' },
    );
    let authorization: string | undefined;
    respond = (req, _body, res) => {
      authorization = req.headers.authorization;
      json(200, { access_token: 'a', token_type: 'bearer', expires_in: 3600 })(req, _body, res);
    };
    const tokens = await protocol.refresh(overridden, CLIENT, { refreshToken: 'r' });
    expect(authorization).toBe(`Basic ${Buffer.from('client-1:secret-1').toString('base64')}`);
    expect(forms[0].get('client_secret')).toBeNull();
    // A confidential client's refresh answer has no refresh token: the one held stays in use.
    expect(tokens.refreshToken).toBeUndefined();
    expect(await protocol.newPkce(overridden)).toBeDefined();
  });

  it('asks Sage for the v3.1 countries, keeps the user and reads refresh_token_expires_in', async () => {
    const sage = entry('sage');
    const url = new URL(
      protocol.authorizationUrl(sage, CLIENT, {
        state: 's',
        redirectUri: 'http://localhost/cb',
        scopes: ['full_access'],
        codeChallenge: 'c'.repeat(43),
      }),
    );
    expect(url.searchParams.get('filter')).toBe('apiv3.1');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(sage.metadata).toEqual({ tokenResponse: ['requested_by_id'], callback: ['country'] });
    respond = json(200, {
      access_token: 'a',
      scope: 'full_access',
      token_type: 'bearer',
      expires_in: 300,
      refresh_token: 'r2',
      refresh_token_expires_in: 2_678_400,
      requested_by_id: 'c3c32d1c',
    });
    const tokens = await protocol.refresh(sage, CLIENT, { refreshToken: 'r1' });
    expect(tokens).toMatchObject({ refreshToken: 'r2', refreshTokenExpiresIn: 2_678_400 });
    expect(tokens.metadata).toEqual({ requested_by_id: 'c3c32d1c' });
    expect(forms[0].get('client_secret')).toBe('secret-1');
    expect(() => resolveProvider({ provider: 'sage', scopes: ['admin'] })).toThrow(
      '"admin" is not a scope Sage Accounting allows',
    );
  });

  it("keeps Calendly's owner and organization, Asana's user and MYOB's business from the callback", async () => {
    respond = json(200, {
      access_token: 'a',
      token_type: 'Bearer',
      expires_in: 7200,
      refresh_token: 'r2',
      owner: 'https://api.calendly.com/users/U1',
      organization: 'https://api.calendly.com/organizations/O1',
      created_at: 1,
    });
    const calendly = await protocol.refresh(entry('calendly'), CLIENT, { refreshToken: 'r1' });
    expect(calendly.metadata).toEqual({
      owner: 'https://api.calendly.com/users/U1',
      organization: 'https://api.calendly.com/organizations/O1',
    });
    respond = json(200, {
      access_token: 'a',
      token_type: 'bearer',
      expires_in: 3600,
      data: { id: 1, gid: '1', name: 'Ann', email: 'ann@example.com' },
    });
    const asana = await protocol.refresh(entry('asana'), CLIENT, { refreshToken: 'r1' });
    expect(asana.metadata).toEqual({ data: { id: 1, gid: '1', name: 'Ann', email: 'ann@example.com' } });
    expect(entry('myob').metadata).toEqual({ tokenResponse: [], callback: ['businessId', 'businessName'] });
    expect(entry('myob').authorizationParams).toEqual({ prompt: 'consent' });
  });

  /** What each entry of the second wave must send: client authentication, PKCE, fixed parameters. */
  interface WireCase {
    id: string;
    clientAuth: 'basic' | 'post';
    pkce: boolean;
    authorizationParams: Record<string, string>;
    scopes: string[];
    config?: Record<string, string>;
  }
  const SECOND_WAVE: WireCase[] = [
    { id: 'gusto', clientAuth: 'post', pkce: false, authorizationParams: {}, scopes: [] },
    {
      id: 'netsuite',
      clientAuth: 'basic',
      pkce: true,
      authorizationParams: {},
      scopes: ['rest_webservices', 'restlets'],
      config: { accountId: '1234567-sb1' },
    },
    { id: 'calendly', clientAuth: 'basic', pkce: true, authorizationParams: {}, scopes: [] },
    {
      id: 'sage',
      clientAuth: 'post',
      pkce: true,
      authorizationParams: { filter: 'apiv3.1' },
      scopes: ['full_access'],
    },
    { id: 'freshbooks', clientAuth: 'post', pkce: false, authorizationParams: {}, scopes: [] },
    {
      id: 'constant-contact',
      clientAuth: 'basic',
      pkce: false,
      authorizationParams: {},
      scopes: ['contact_data', 'offline_access'],
    },
    { id: 'keap', clientAuth: 'basic', pkce: false, authorizationParams: {}, scopes: ['full'] },
    {
      id: 'myob',
      clientAuth: 'post',
      pkce: false,
      authorizationParams: { prompt: 'consent' },
      scopes: ['sme-company-file'],
    },
    {
      id: 'outreach',
      clientAuth: 'post',
      pkce: false,
      authorizationParams: {},
      scopes: ['prospects.read', 'prospects.write'],
    },
    { id: 'asana', clientAuth: 'post', pkce: true, authorizationParams: {}, scopes: ['tasks:read'] },
  ];

  it.each(SECOND_WAVE.map((wire) => [wire.id, wire]))(
    '%s: the authorization URL, the code exchange and the refresh carry its client auth, PKCE and parameters',
    async (id, wire) => {
      const provider = bindConnectionConfig(
        resolveProvider({
          provider: id,
          authorizationUrl: `${base}/${id}/${wire.config ? '{accountId}/' : ''}authorize`,
          tokenUrl: `${base}/${id}/${wire.config ? '{accountId}/' : ''}token`,
        }),
        wire.config ?? null,
      );
      const pkce = await protocol.newPkce(provider);
      expect(pkce !== undefined).toBe(wire.pkce);

      const url = new URL(
        protocol.authorizationUrl(provider, CLIENT, {
          state: 'st',
          redirectUri: 'http://localhost/oauth/callback',
          scopes: wire.scopes,
          codeChallenge: pkce?.codeChallenge,
        }),
      );
      const expectedPath = `/${id}/${wire.config ? `${wire.config.accountId}/` : ''}authorize`;
      expect(url.pathname).toBe(expectedPath);
      const expectedQuery: Record<string, string> = {
        ...wire.authorizationParams,
        response_type: 'code',
        client_id: CLIENT.clientId,
        redirect_uri: 'http://localhost/oauth/callback',
        state: 'st',
        ...(wire.scopes.length ? { scope: wire.scopes.join(' ') } : {}),
        ...(pkce ? { code_challenge: pkce.codeChallenge, code_challenge_method: 'S256' } : {}),
      };
      // Exactly these: no parameter the provider did not ask for, none it asked for missing.
      expect(Object.fromEntries(url.searchParams)).toEqual(expectedQuery);
      if (pkce) {
        expect(pkce.codeChallenge).toBe(createHash('sha256').update(pkce.codeVerifier).digest('base64url'));
      }

      const authorizations: (string | undefined)[] = [];
      const paths: (string | undefined)[] = [];
      respond = (req, body, res) => {
        authorizations.push(req.headers.authorization);
        paths.push(req.url);
        json(200, {
          access_token: 'at',
          token_type: 'bearer',
          expires_in: 3600,
          refresh_token: body.get('grant_type') === 'refresh_token' ? 'r2' : 'r1',
        })(req, body, res);
      };
      await protocol.exchangeCode(provider, CLIENT, {
        code: 'the-code',
        redirectUri: 'http://localhost/oauth/callback',
        codeVerifier: pkce?.codeVerifier,
      });
      await protocol.refresh(provider, CLIENT, { refreshToken: 'r1' });

      const tokenPath = expectedPath.replace(/authorize$/, 'token');
      expect(paths).toEqual([tokenPath, tokenPath]);
      const [exchange, refresh] = forms;
      expect(Object.fromEntries(exchange)).toMatchObject({
        grant_type: 'authorization_code',
        code: 'the-code',
        redirect_uri: 'http://localhost/oauth/callback',
      });
      expect(exchange.get('code_verifier')).toBe(pkce?.codeVerifier ?? null);
      expect(Object.fromEntries(refresh)).toMatchObject({ grant_type: 'refresh_token', refresh_token: 'r1' });
      // A refresh names no scope and no redirect_uri: the provider keeps the grant as it was.
      expect(refresh.get('scope')).toBeNull();
      expect(refresh.get('redirect_uri')).toBeNull();
      for (const [index, form] of [exchange, refresh].entries()) {
        if (wire.clientAuth === 'basic') {
          expect(authorizations[index]).toBe(`Basic ${Buffer.from('client-1:secret-1').toString('base64')}`);
          expect(form.get('client_secret')).toBeNull();
        } else {
          expect(authorizations[index]).toBeUndefined();
          expect(form.get('client_id')).toBe(CLIENT.clientId);
          expect(form.get('client_secret')).toBe(CLIENT.clientSecret);
        }
      }
    },
  );
});
