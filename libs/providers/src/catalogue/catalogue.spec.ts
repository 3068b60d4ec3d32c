import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { CATALOGUE, CATALOGUE_IDS, CATALOGUE_RULES, catalogueEntry, rulesSet } from '.';
import { protocolFor } from '../oauth-protocol';
import { configureProviderHosts } from '../provider-hosts';
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

  // Generic over the catalogue: an entry added later is held to it without touching this spec.
  describe.each(CATALOGUE.map((entry) => [entry.id, entry] as const))('%s sources', (_id, entry) => {
    it('every rule it sets cites the provider page and its sentence, or says why it is unverified', () => {
      for (const rule of rulesSet(entry)) {
        const cited = entry.sources.filter((source) => source.rule === rule);
        // The rule in the expectation names it in the failure.
        expect({ rule, cited: cited.length > 0 }).toEqual({ rule, cited: true });
      }
    });

    // A source may also say why an entry leaves a rule unset (a refresh token always issued, so
    // nothing earns it): it must still name a known rule and be well formed.
    it('cites known rules only, each with an https page and a quote or what it rests on', () => {
      for (const source of entry.sources) {
        expect(CATALOGUE_RULES).toContain(source.rule);
        expect(new URL(source.url).protocol).toBe('https:');
        expect([source.quote, source.unverified].filter((text) => text?.trim()).length).toBe(1);
      }
    });
  });

  it('asks what earns the refresh token whatever scopes are named, and keeps defaultScopes for no scopes', () => {
    const protocol = protocolFor('oauth2');
    const authorize = (config: IntegrationProviderConfig, scopes?: string[]) =>
      new URL(
        protocol.authorizationUrl(
          bindConnectionConfig(
            resolveProvider(config),
            config.provider === 'microsoft' ? { tenant: 'common' } : null,
          ),
          CLIENT,
          {
            state: 's',
            redirectUri: 'http://localhost/cb',
            scopes,
            codeChallenge: 'c'.repeat(43),
          },
        ),
      ).searchParams;
    expect(authorize({ provider: 'salesforce', scopes: ['api'] }).get('scope')).toBe('api refresh_token');
    expect(authorize({ provider: 'salesforce' }).get('scope')).toBe('api refresh_token');
    // A connection's own scopes replace the integration's, never what earns the refresh token.
    expect(authorize({ provider: 'salesforce', scopes: ['api'] }, ['chatter_api']).get('scope')).toBe(
      'chatter_api refresh_token',
    );
    expect(authorize({ provider: 'salesforce', scopes: ['api', 'refresh_token'] }).get('scope')).toBe(
      'api refresh_token',
    );
    expect(authorize({ provider: 'xero', scopes: ['accounting.transactions'] }).get('scope')).toBe(
      'accounting.transactions offline_access',
    );
    expect(authorize({ provider: 'x', scopes: ['tweet.read', 'users.read'] }).get('scope')).toBe(
      'tweet.read users.read offline.access',
    );
    expect(authorize({ provider: 'microsoft', scopes: ['Mail.Read'] }).get('scope')).toBe(
      'Mail.Read offline_access',
    );
    const google = authorize({ provider: 'google', scopes: ['openid'] });
    expect([google.get('access_type'), google.get('prompt')]).toEqual(['offline', 'consent']);
    const custom = authorize({
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: 'https://a.example/a',
      tokenUrl: 'https://a.example/t',
      scopes: ['read'],
      refreshEarning: { scopes: ['offline_access'], authorizationParams: { access_type: 'offline' } },
    });
    expect([custom.get('scope'), custom.get('access_type')]).toEqual(['read offline_access', 'offline']);
    // defaultScopes stays what it says: business scopes only.
    for (const entry of CATALOGUE) {
      for (const scope of entry.refreshEarning?.scopes ?? [])
        expect(entry.defaultScopes ?? []).not.toContain(scope);
      for (const name of Object.keys(entry.refreshEarning?.authorizationParams ?? {}))
        expect(Object.keys(entry.authorizationParams ?? {})).not.toContain(name);
    }
  });

  it('says which providers expect a refresh token from an authorization-code grant', () => {
    expect(resolveProvider({ provider: 'salesforce' }).expectsRefreshToken).toBe(true);
    expect(resolveProvider({ provider: 'bloomerang' }).expectsRefreshToken).toBe(true);
    const base = {
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: 'https://a.example/a',
      tokenUrl: 'https://a.example/t',
    } as const;
    expect(resolveProvider(base).expectsRefreshToken).toBeUndefined();
    expect(resolveProvider({ ...base, refreshEarning: { scopes: ['offline'] } }).expectsRefreshToken).toBe(
      true,
    );
    expect(resolveProvider({ ...base, refreshTokenRotation: 'none' }).expectsRefreshToken).toBe(true);
  });

  it.each(CATALOGUE.filter((entry) => !['bloom', 'oauth2'].includes(entry.id)).map((entry) => [entry.id]))(
    '%s resolves from its preset alone, every URL placeholder being one of its config fields',
    (id) => {
      const resolved = resolveProvider({ provider: id });
      expect(resolved.kind).toBe(id);
      const entry = CATALOGUE.find((candidate) => candidate.id === id)!;
      // A value each pattern takes: a derived field's first known value, 'abc', or the first
      // alternative of a list.
      const values = Object.fromEntries(
        (entry.config ?? []).map((field) => [
          field.name,
          Object.keys(field.derived?.values ?? {})[0] ??
            (new RegExp(`^(?:${field.pattern})$`).test('abc') ? 'abc' : field.pattern.split('|')[0]),
        ]),
      );
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
    // Zoho's Canadian data centre is not accounts.zoho.ca (Multi DC page).
    const canada = bindConnectionConfig(resolveProvider({ provider: 'zoho' }), { domain: 'ca' });
    expect([canada.authorizationUrl, canada.tokenUrl]).toEqual([
      'https://accounts.zohocloud.ca/oauth/v2/auth',
      'https://accounts.zohocloud.ca/oauth/v2/token',
    ]);
    // Every value the pattern allows has its accounts server.
    const domain = catalogueEntry('zoho')!.config![0];
    for (const value of domain.pattern.split('|').map((text) => text.replace(/\\/g, '')))
      expect(domain.derived!.values[value]).toMatch(/^accounts\.zoho(cloud)?\.[a-z.]+$/);
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
    expect(() => bindConnectionConfig(oauth2, null)).toThrow('config.tenant is required');
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
      'metadata.tokenResponse: "refresh_token" looks like a secret',
    ],
    ...['bot_access_token', 'Access_Token', 'signature'].map((name): [IntegrationProviderConfig, string] => [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://a.example/a',
        tokenUrl: 'https://a.example/t',
        metadata: { tokenResponse: ['instance_url', name] },
      },
      `metadata.tokenResponse: "${name}" looks like a secret`,
    ]),
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
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://a.example/a',
        tokenUrl: 'https://a.example/t',
        refreshEarning: { scopes: ['offline access'] },
      },
      'refreshEarning.scopes: "offline access" is not a scope token',
    ],
    [
      {
        provider: 'oauth2',
        grantType: 'authorization_code',
        authorizationUrl: 'https://a.example/a',
        tokenUrl: 'https://a.example/t',
        refreshEarning: { authorizationParams: { state: 'x' } },
      },
      'refreshEarning.authorizationParams may not set "state"',
    ],
    [
      { provider: 'google', refreshEarning: { scopes: ['offline_access'] } },
      'refreshEarning applies to provider "oauth2" only',
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
    // The provider here is a server on loopback, which production refuses.
    configureProviderHosts({ allowPrivate: false, allowLoopback: true });
  });
  afterAll(() => {
    configureProviderHosts({ allowPrivate: false });
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
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
      enterprise: {
        id: 'E1',
        access_token: 'xoxp-leak',
        Bot_Access_Token: 'xoxb-leak',
        signature: 'sig-leak',
        nested: [{ refresh_token: 'xoxe-leak', ok: 1 }],
      },
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
    // A kept value that carries the answer's own token, under a name no list knows, is not kept.
    respond = json(200, {
      ok: true,
      access_token: 'xoxe.xoxb-own-token',
      token_type: 'bot',
      refresh_token: 'xoxe-own-refresh',
      team: { id: 'T1', name: 'Acme', copy: 'xoxe.xoxb-own-token' },
      app_id: 'A1 xoxe-own-refresh',
      bot_user_id: 'U1',
    });
    expect((await protocol.refresh(slack, CLIENT, { refreshToken: 'xoxe-0' })).metadata).toEqual({
      bot_user_id: 'U1',
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

  it("reads Airtable's refresh_expires_in as the refresh token lifetime", async () => {
    respond = json(200, {
      access_token: 'a',
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: 'r2',
      refresh_expires_in: 5_184_000,
    });
    const tokens = await protocol.refresh(entry('airtable'), CLIENT, { refreshToken: 'r1' });
    expect(tokens.refreshTokenExpiresIn).toBe(5_184_000);
  });

  it('sends Zendesk expires_in with the code, so a client older than refresh tokens gets one', async () => {
    respond = json(200, { access_token: 'a', token_type: 'bearer', expires_in: 1800, refresh_token: 'r' });
    await protocol.exchangeCode(
      bindConnectionConfig(
        resolveProvider({
          provider: 'zendesk',
          authorizationUrl: `${base}/zendesk/{subdomain}/a`,
          tokenUrl: `${base}/zendesk/{subdomain}/t`,
        }),
        { subdomain: 'acme' },
      ),
      CLIENT,
      { code: 'c', redirectUri: 'http://localhost/cb', codeVerifier: 'v'.repeat(43) },
    );
    expect(forms.at(-1)!.get('expires_in')).toBe('1800');
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
