import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { CATALOGUE, CATALOGUE_IDS } from '.';
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

  it.each(CATALOGUE.filter((entry) => !['bloom', 'oauth2'].includes(entry.id)).map((entry) => [entry.id]))(
    '%s resolves from its preset alone, every URL placeholder being one of its config fields',
    (id) => {
      const resolved = resolveProvider({ provider: id });
      expect(resolved.kind).toBe(id);
      const entry = CATALOGUE.find((candidate) => candidate.id === id)!;
      // A value each pattern takes: 'abc', or the first alternative of a list (zoho's data centres).
      const values = Object.fromEntries(
        (entry.config ?? []).map((field) => [
          field.name,
          new RegExp(`^(?:${field.pattern})$`).test('abc') ? 'abc' : field.pattern.split('|')[0],
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
});
