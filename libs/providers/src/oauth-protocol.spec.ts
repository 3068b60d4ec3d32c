import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { protocolFor } from './oauth-protocol';
import { configureProviderHosts } from './provider-hosts';
import { IntegrationProviderConfig, resolveProvider, ResolvedProvider } from './provider-config';
import {
  InvalidProviderResponseError,
  NeedsReauthorizationError,
  ProviderError,
  ProviderMisconfiguredError,
  RotatedAnswerUnusableError,
  TransientProviderError,
} from './provider-errors';

interface Recorded {
  method?: string;
  path?: string;
  headers: IncomingMessage['headers'];
  body: string;
  form: URLSearchParams;
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void;
type ErrorClass = new (...args: never[]) => ProviderError;

/** Characters that form-urlencoding (RFC 6749 2.3.1, appendix B) must escape in the Basic credentials. */
const CLIENT = { clientId: 'client id/ä', clientSecret: 'se:cret+&=' };
const CODE = 'authorization-code-789';
const REFRESH = 'refresh-token-value-123';
const TOKEN = {
  access_token: 'access-token-value-456',
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'OrgAdmin',
};
/** Every value that must never appear in an error: the secret, the code, and the tokens sent or received. */
const SENSITIVE = [CLIENT.clientSecret, CODE, REFRESH, TOKEN.access_token, 'rotated-refresh-token'];

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const raw =
  (status: number, contentType: string, body: string, headers: Record<string, string> = {}): Responder =>
  (_, res) => {
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  };

/** Decodes one half of a Basic credential the way a server must: application/x-www-form-urlencoded. */
const formDecode = (value: string) => new URLSearchParams(`v=${value}`).get('v');

describe('the OAuth protocol on the wire', () => {
  let server: Server;
  let baseUrl: string;
  let recorded: Recorded[] = [];
  let respond: Responder = json(200, TOKEN);
  const protocol = protocolFor('oauth2');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        recorded.push({
          method: req.method,
          path: req.url,
          headers: req.headers,
          body,
          form: new URLSearchParams(body),
        });
        respond(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The provider here is a server on loopback, which production refuses.
    configureProviderHosts({ allowPrivate: false, allowLoopback: true });
  });

  afterAll(async () => {
    configureProviderHosts({ allowPrivate: false });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    recorded = [];
    respond = json(200, TOKEN);
  });

  const bloomerang = (scopes?: string[]): ResolvedProvider =>
    resolveProvider({
      provider: 'bloomerang',
      scopes,
      tokenUrl: `${baseUrl}/v2/oauth/token`,
      authorizationUrl: `${baseUrl}/Authorize`,
    });
  const bloom = (authVersion: 'v1' | 'v2' = 'v2'): ResolvedProvider =>
    resolveProvider({
      provider: 'bloom',
      audience: 'dev-api.bloom.dev',
      authVersion,
      scopes: authVersion === 'v2' ? ['data-access:all', 'furnishment:all'] : undefined,
      tokenUrl: `${baseUrl}/${authVersion === 'v2' ? 'oauth2' : 'oauth'}/token`,
    });
  const generic = (overrides: Partial<IntegrationProviderConfig> = {}): ResolvedProvider =>
    resolveProvider({
      provider: 'oauth2',
      grantType: 'authorization_code',
      authorizationUrl: `${baseUrl}/authorize?tenant=acme`,
      tokenUrl: `${baseUrl}/token`,
      scopes: ['read', 'write'],
      ...overrides,
    });

  /** The Basic credentials of a request, before and after form-decoding. */
  function basicOf(request: Recorded): { encoded: string[]; id: string | null; secret: string | null } {
    const header = request.headers.authorization ?? '';
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    const encoded = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8').split(':');
    expect(encoded).toHaveLength(2); // a ':' inside the id or secret must have been escaped
    return { encoded, id: formDecode(encoded[0]), secret: formDecode(encoded[1]) };
  }

  /** What `Authorization: Basic` carries, base64-decoded: the exact bytes a server sees. */
  function basicCredentials(request: Recorded): string {
    const header = request.headers.authorization ?? '';
    expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
    return Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8');
  }

  function expectFormPost(request: Recorded, path: string): void {
    expect(request.method).toBe('POST');
    expect(request.path).toBe(path);
    expect(request.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
  }

  describe('authorization URL', () => {
    it('builds the Bloomerang URL the seed describes', () => {
      const url = new URL(
        protocol.authorizationUrl(bloomerang(['OrgAdmin']), CLIENT, {
          state: 'state-1',
          redirectUri: 'https://broker.example/oauth/callback?x=1',
        }),
      );
      expect(`${url.origin}${url.pathname}`).toBe(`${baseUrl}/Authorize`);
      expect(Object.fromEntries(url.searchParams)).toEqual({
        response_type: 'code',
        client_id: CLIENT.clientId,
        redirect_uri: 'https://broker.example/oauth/callback?x=1',
        state: 'state-1',
        scope: 'OrgAdmin',
      });
      expect(url.toString()).not.toContain(CLIENT.clientSecret);
      expect(url.toString()).not.toContain('se%3Acret');
    });

    it('leaves the scope out when none is configured, so Bloomerang grants the highest available', () => {
      const url = new URL(
        protocol.authorizationUrl(bloomerang(), CLIENT, { state: 's', redirectUri: 'https://b/cb' }),
      );
      expect(url.searchParams.has('scope')).toBe(false);
    });

    it('keeps the query of a generic authorization URL and joins scopes with spaces', () => {
      const url = new URL(
        protocol.authorizationUrl(generic(), CLIENT, { state: 'st', redirectUri: 'https://b/cb' }),
      );
      expect(url.pathname).toBe('/authorize');
      expect(url.searchParams.get('tenant')).toBe('acme');
      expect(url.searchParams.get('scope')).toBe('read write');
      expect(url.searchParams.get('response_type')).toBe('code');
      const narrowed = new URL(
        protocol.authorizationUrl(generic(), CLIENT, {
          state: 'st',
          redirectUri: 'https://b/cb',
          scopes: ['read'],
        }),
      );
      expect(narrowed.searchParams.get('scope')).toBe('read');
    });

    it('refuses to build one for a client credentials provider', () => {
      expect(() =>
        protocol.authorizationUrl(bloom(), CLIENT, { state: 's', redirectUri: 'https://b/cb' }),
      ).toThrow('no authorization endpoint');
    });
  });

  describe('Bloomerang', () => {
    it('exchanges a code with HTTP Basic (the id and secret as they are) and the exact redirect_uri', async () => {
      respond = json(200, { ...TOKEN, refresh_token: 'rotated-refresh-token' });
      const tokens = await protocol.exchangeCode(bloomerang(), CLIENT, {
        code: CODE,
        redirectUri: 'https://b/oauth/callback',
      });
      expect(tokens).toEqual({
        accessToken: TOKEN.access_token,
        tokenType: 'Bearer',
        expiresIn: 3600,
        expiresInDefaulted: false,
        scope: 'OrgAdmin',
        refreshToken: 'rotated-refresh-token',
        refreshTokenExpiresIn: undefined,
      });
      expect(recorded).toHaveLength(1);
      const [request] = recorded;
      expectFormPost(request, '/v2/oauth/token');
      // "Basic Auth, with your client Id as the username and client secret as the password" (seed 000).
      expect(basicCredentials(request)).toBe('client id/ä:se:cret+&=');
      // With Basic, neither the id nor the secret is repeated in the body.
      expect(Object.fromEntries(request.form)).toEqual({
        grant_type: 'authorization_code',
        code: CODE,
        redirect_uri: 'https://b/oauth/callback',
      });
    });

    it('refreshes with the refresh token only, and a scope only when narrowing is asked', async () => {
      respond = json(200, { ...TOKEN, refresh_token: 'rotated-refresh-token' });
      const tokens = await protocol.refresh(bloomerang(['OrgAdmin']), CLIENT, { refreshToken: REFRESH });
      expect(tokens.refreshToken).toBe('rotated-refresh-token');
      expectFormPost(recorded[0], '/v2/oauth/token');
      expect(basicCredentials(recorded[0])).toBe(`${CLIENT.clientId}:${CLIENT.clientSecret}`);
      expect(Object.fromEntries(recorded[0].form)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
      });
      await protocol.refresh(bloomerang(['OrgAdmin']), CLIENT, {
        refreshToken: REFRESH,
        scopes: ['Standard'],
      });
      expect(Object.fromEntries(recorded[1].form)).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH,
        scope: 'Standard',
      });
    });

    it('reports no refresh token when the provider did not rotate it, so the caller keeps the old one', async () => {
      const tokens = await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH });
      expect(tokens.refreshToken).toBeUndefined();
    });

    it('passes on a refresh_token_expires_in the provider sends', async () => {
      respond = json(200, { ...TOKEN, refresh_token: 'r2', refresh_token_expires_in: 7_776_000 });
      const tokens = await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH });
      expect(tokens.refreshTokenExpiresIn).toBe(7_776_000);
    });
  });

  describe('Bloom', () => {
    it('v2: credentials, audience and space-separated scope in the form, no Authorization header', async () => {
      respond = json(200, { ...TOKEN, scope: 'data-access:all furnishment:all', expires_in: 86400 });
      const tokens = await protocol.clientCredentials(bloom(), CLIENT);
      expect(tokens).toMatchObject({ expiresIn: 86400, scope: 'data-access:all furnishment:all' });
      expect(recorded).toHaveLength(1);
      const [request] = recorded;
      expectFormPost(request, '/oauth2/token');
      expect(request.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(request.form)).toEqual({
        grant_type: 'client_credentials',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        audience: 'dev-api.bloom.dev',
        scope: 'data-access:all furnishment:all',
      });
      expect(request.body).toContain('scope=data-access%3Aall+furnishment%3Aall');
    });

    it('v1: the same without scope', async () => {
      await protocol.clientCredentials(bloom('v1'), CLIENT);
      const [request] = recorded;
      expectFormPost(request, '/oauth/token');
      expect(request.headers.authorization).toBeUndefined();
      expect(Object.fromEntries(request.form)).toEqual({
        grant_type: 'client_credentials',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        audience: 'dev-api.bloom.dev',
      });
    });
  });

  describe('client_secret_basic encodings: what Authorization: Basic holds', () => {
    /** A GUID-style id and a secret with every unreserved mark, a ":" and characters form-encoding escapes. */
    const MARKED = { clientId: 'blm-client_0.1~a', clientSecret: "blm-secret:9fK2qW_x.y~z +%!*'()" };
    const grants = (provider: ResolvedProvider, client = MARKED) => [
      () => protocol.clientCredentials({ ...provider, grantType: 'client_credentials' }, client),
      () => protocol.exchangeCode(provider, client, { code: CODE, redirectUri: 'https://b/cb' }),
      () => protocol.refresh(provider, client, { refreshToken: REFRESH }),
    ];

    it.each([
      // Unreserved characters as they are, everything else percent-encoded (space as %20).
      ['form', 'blm-client_0.1~a:blm-secret%3A9fK2qW_x.y~z%20%2B%25%21%2A%27%28%29'],
      // As they are: the username ends at the first ":".
      ['raw', "blm-client_0.1~a:blm-secret:9fK2qW_x.y~z +%!*'()"],
      // oauth4webapi's own: everything but letters and digits escaped, space as "+".
      ['strict', 'blm%2Dclient%5F0%2E1%7Ea:blm%2Dsecret%3A9fK2qW%5Fx%2Ey%7Ez+%2B%25%21%2A%27%28%29'],
    ] as const)('%s, on every grant', async (basicAuthEncoding, expected) => {
      for (const call of grants(generic({ basicAuthEncoding }))) await call();
      expect(recorded).toHaveLength(3);
      for (const request of recorded) {
        expect(basicCredentials(request)).toBe(expected);
        expect(request.form.has('client_id')).toBe(false);
        expect(request.form.has('client_secret')).toBe(false);
      }
    });

    it('form is the default of a generic integration, and a server that form-decodes reads it back', async () => {
      await grants(generic())[0]();
      const [id, secret] = basicCredentials(recorded[0]).split(':');
      expect(formDecode(id)).toBe(MARKED.clientId);
      expect(formDecode(secret)).toBe(MARKED.clientSecret);
    });

    it('Bloomerang always sends raw, and UTF-8 as such', async () => {
      await protocol.refresh(
        bloomerang(),
        { clientId: 'blm-ä', clientSecret: 's:é' },
        { refreshToken: REFRESH },
      );
      expect(basicCredentials(recorded[0])).toBe('blm-ä:s:é');
    });

    it('raw refuses a client id with ":" before anything is sent (RFC 7617 cannot carry it)', async () => {
      for (const call of grants(generic({ basicAuthEncoding: 'raw' }), {
        clientId: 'a:b',
        clientSecret: 's',
      })) {
        await expect(call()).rejects.toThrow(ProviderMisconfiguredError);
      }
      expect(recorded).toHaveLength(0);
    });
  });

  describe('generic OAuth 2.0', () => {
    it('client_secret_basic by default, with the extra parameters on every grant', async () => {
      const provider = generic({ extraTokenParams: { resource: 'https://api.example', tenant: 'acme' } });
      await protocol.clientCredentials({ ...provider, grantType: 'client_credentials' }, CLIENT);
      await protocol.exchangeCode(provider, CLIENT, { code: CODE, redirectUri: 'https://b/cb' });
      await protocol.refresh(provider, CLIENT, { refreshToken: REFRESH });
      expect(recorded.map((request) => request.form.get('grant_type'))).toEqual([
        'client_credentials',
        'authorization_code',
        'refresh_token',
      ]);
      for (const request of recorded) {
        expectFormPost(request, '/token');
        expect(basicOf(request).secret).toBe(CLIENT.clientSecret);
        expect(request.form.has('client_secret')).toBe(false);
        expect(request.form.get('resource')).toBe('https://api.example');
        expect(request.form.get('tenant')).toBe('acme');
      }
      expect(recorded[0].form.get('scope')).toBe('read write');
      expect(recorded[1].form.get('code')).toBe(CODE);
      expect(recorded[2].form.get('refresh_token')).toBe(REFRESH);
      expect(recorded[2].form.has('scope')).toBe(false);
    });

    it('client_secret_post puts the id and secret in the body and sends no Authorization header', async () => {
      const provider = generic({ grantType: 'client_credentials', tokenAuthMethod: 'client_secret_post' });
      await protocol.clientCredentials(provider, CLIENT);
      await protocol.refresh({ ...provider, grantType: 'authorization_code' }, CLIENT, {
        refreshToken: REFRESH,
      });
      for (const request of recorded) {
        expect(request.headers.authorization).toBeUndefined();
        expect(request.form.get('client_id')).toBe(CLIENT.clientId);
        expect(request.form.get('client_secret')).toBe(CLIENT.clientSecret);
      }
      expect(Object.fromEntries(recorded[0].form)).toEqual({
        grant_type: 'client_credentials',
        client_id: CLIENT.clientId,
        client_secret: CLIENT.clientSecret,
        scope: 'read write',
      });
    });
  });

  /** Runs a call that must fail and checks that no sensitive value is anywhere in the error. */
  async function failure(call: () => Promise<unknown>): Promise<ProviderError> {
    let caught: unknown;
    try {
      await call();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ProviderError);
    const error = caught as ProviderError;
    const everything = `${error.message}\n${error.stack}\n${JSON.stringify({ ...error })}\n${String(error)}`;
    for (const value of SENSITIVE) expect(everything).not.toContain(value);
    expect(everything).not.toContain(Buffer.from(CLIENT.clientSecret).toString('base64'));
    return error;
  }

  const grants: [string, () => Promise<unknown>][] = [
    [
      'the code exchange',
      () => protocol.exchangeCode(bloomerang(), CLIENT, { code: CODE, redirectUri: 'https://b/cb' }),
    ],
    ['a refresh', () => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH })],
    ['client credentials', () => protocol.clientCredentials(bloom(), CLIENT)],
  ];

  const cases: [
    string,
    Responder,
    ErrorClass,
    RegExp,
    { retryable: boolean; httpStatus?: number; retryAfterMs?: number },
  ][] = [
    [
      '400 invalid_grant',
      json(400, { error: 'invalid_grant', error_description: 'The grant was already used.' }),
      NeedsReauthorizationError,
      /invalid_grant: The grant was already used\..*authorize again/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      '401 invalid_client without WWW-Authenticate',
      json(401, { error: 'invalid_client', error_description: 'Unknown client.' }),
      ProviderMisconfiguredError,
      /refused the client credentials \(invalid_client: Unknown client\.\); check the integration's client id, secret and (token URL|environment)$/,
      { retryable: false, httpStatus: 401 },
    ],
    [
      '401 invalid_client with WWW-Authenticate',
      json(401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="bloomerang"' }),
      ProviderMisconfiguredError,
      /refused the client credentials \(invalid_client\); check the integration's client id, secret and (token URL|environment)$/,
      { retryable: false, httpStatus: 401 },
    ],
    [
      '401 with WWW-Authenticate and no body',
      raw(401, 'text/plain', '', { 'www-authenticate': 'Basic realm="bloomerang"' }),
      ProviderMisconfiguredError,
      /refused the client credentials \(HTTP 401\); check the integration's client id, secret and (token URL|environment)$/,
      { retryable: false, httpStatus: 401 },
    ],
    [
      // Servers that add a Basic challenge to every 400 must not turn a dead grant into "misconfigured".
      '400 invalid_grant with WWW-Authenticate',
      json(400, { error: 'invalid_grant' }, { 'www-authenticate': 'Basic realm="x"' }),
      NeedsReauthorizationError,
      /invalid_grant\): the account must authorize again/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      '400 invalid_grant labelled text/plain',
      raw(400, 'text/plain', JSON.stringify({ error: 'invalid_grant', error_description: 'Expired.' })),
      NeedsReauthorizationError,
      /invalid_grant: Expired\.\): the account must authorize again/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      '503 with a WWW-Authenticate header',
      raw(503, 'text/html', '<html>down</html>', {
        'www-authenticate': 'Basic realm="x"',
        'retry-after': '5',
      }),
      TransientProviderError,
      /token endpoint answered HTTP 503 with an HTML page/,
      { retryable: true, httpStatus: 503, retryAfterMs: 5000 },
    ],
    [
      '400 slow_down',
      json(400, { error: 'slow_down' }),
      TransientProviderError,
      /could not answer the token request now \(HTTP 400, slow_down\)/,
      { retryable: true, httpStatus: 400 },
    ],
    [
      '408 HTML page',
      raw(408, 'text/html', '<html>Request Timeout</html>'),
      TransientProviderError,
      /HTTP 408 with an HTML page/,
      { retryable: true, httpStatus: 408 },
    ],
    [
      '400 unauthorized_client',
      json(400, { error: 'unauthorized_client' }),
      ProviderMisconfiguredError,
      /does not allow this client the grant/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      '400 invalid_request with a description of 5,000 characters',
      json(400, { error: 'invalid_request', error_description: `${'x'.repeat(5000)} $& $1` }),
      ProviderMisconfiguredError,
      /^Bloom(erang)? refused the client \(invalid_request: x{200}…\); check the integration's client id, secret, scopes and audience$/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      '403 access_denied',
      json(403, { error: 'access_denied', error_description: 'Service not found: prod-api.example' }),
      ProviderMisconfiguredError,
      /access_denied: Service not found: prod-api\.example.*audience/,
      { retryable: false, httpStatus: 403 },
    ],
    [
      '400 invalid_scope',
      json(400, { error: 'invalid_scope', error_description: 'The provided scope is invalid.' }),
      ProviderMisconfiguredError,
      /refused the scope \(invalid_scope: The provided scope is invalid\.\); check the integration's scopes/,
      { retryable: false, httpStatus: 400 },
    ],
    [
      'HTML 500',
      raw(500, 'text/html; charset=utf-8', '<html><body><h1>500</h1></body></html>'),
      TransientProviderError,
      /HTTP 500 with an HTML page/,
      { retryable: true, httpStatus: 500 },
    ],
    [
      '503 temporarily_unavailable',
      json(503, { error: 'temporarily_unavailable' }, { 'retry-after': '3' }),
      TransientProviderError,
      /token endpoint answered HTTP 503/,
      { retryable: true, httpStatus: 503, retryAfterMs: 3000 },
    ],
    [
      '404 HTML page (a wrong token URL)',
      raw(404, 'text/html', '<html>Not Found</html>'),
      ProviderMisconfiguredError,
      /HTTP 404 with an HTML page; check the integration's token URL/,
      { retryable: false, httpStatus: 404 },
    ],
    [
      '200 with invalid JSON',
      raw(200, 'application/json', `{"access_token":"${TOKEN.access_token}","token_type":"Bea`),
      InvalidProviderResponseError,
      /HTTP 200 with a body that is not a valid token response/,
      { retryable: true, httpStatus: 200 },
    ],
    [
      '200 without access_token',
      json(200, { token_type: 'Bearer', expires_in: 3600 }),
      InvalidProviderResponseError,
      /access_token/,
      { retryable: true },
    ],
    [
      'token_type "mac"',
      json(200, { ...TOKEN, token_type: 'mac' }),
      InvalidProviderResponseError,
      /not a valid token response \(unsupported `token_type` value\)/,
      { retryable: true },
    ],
    [
      'expires_in a non-numeric string',
      json(200, { ...TOKEN, expires_in: 'soon' }),
      InvalidProviderResponseError,
      /expires_in/,
      { retryable: true },
    ],
    [
      'expires_in an object',
      json(200, { ...TOKEN, expires_in: { seconds: 3600 } }),
      InvalidProviderResponseError,
      /expires_in/,
      { retryable: true },
    ],
  ];

  describe.each(grants)('classifies the failures of %s', (_, call) => {
    it.each(cases)('%s', async (_name, responder, Kind, message, details) => {
      respond = responder;
      const error = await failure(call);
      expect(error).toBeInstanceOf(Kind);
      expect(error.message).toMatch(message);
      expect(error.retryable).toBe(details.retryable);
      if (details.httpStatus !== undefined) expect(error.httpStatus).toBe(details.httpStatus);
      expect(error.retryAfterMs).toBe(details.retryAfterMs);
    });
  });

  it.each([
    ['the code exchange', grants[0][1], `code ${CODE} of ${CLIENT.clientId}:${CLIENT.clientSecret}`],
    ['a refresh', grants[1][1], `token ${REFRESH} (secret ${CLIENT.clientSecret})`],
    ['client credentials', grants[2][1], `secret ${CLIENT.clientSecret} is wrong`],
  ])('never repeats what %s sent when the provider echoes it in error_description', async (_, call, echo) => {
    respond = json(400, { error: 'invalid_grant', error_description: echo });
    const echoed = await failure(call);
    expect(echoed).toBeInstanceOf(NeedsReauthorizationError);
    expect(echoed.message).toContain('[redacted]');
    respond = json(401, { error: 'invalid_client', error_description: echo });
    expect(await failure(call)).toBeInstanceOf(ProviderMisconfiguredError);
    respond = json(429, { error: 'slow_down', error_description: echo });
    expect(await failure(call)).toBeInstanceOf(TransientProviderError);
  });

  describe('a 200 answer is judged only after the refresh token it carries is taken', () => {
    it.each([
      ['expires_in 0', 0, 1],
      ['expires_in negative', -5, 1],
      ['expires_in "1e999"', '1e999', 365 * 86_400],
      ['expires_in "0"', '0', 1],
    ])('clamps %s like a huge lifetime, with a warning', async (_, claimed, expected) => {
      respond = json(200, { ...TOKEN, expires_in: claimed, refresh_token: 'rotated-refresh-token' });
      const tokens = await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH });
      expect(tokens.expiresIn).toBe(expected);
      expect(tokens.refreshToken).toBe('rotated-refresh-token');
      expect(tokens.lifetimeWarning).toMatch(/expires_in/);
    });

    it.each([
      ['a scope sent as an array', { scope: ['a', 'b'] }],
      ['a token_type that is not bearer', { token_type: 'mac' }],
      ['no access_token', { access_token: undefined }],
      ['an expires_in that is no number', { expires_in: 'soon' }],
    ])('fails an answer with %s, carrying the rotated refresh token out of sight', async (_, spoiled) => {
      respond = json(200, {
        ...TOKEN,
        refresh_token: 'rotated-refresh-token',
        refresh_token_expires_in: 1e15,
        ...spoiled,
      });
      const error = await failure(() => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }));
      expect(error).toBeInstanceOf(RotatedAnswerUnusableError);
      const rotated = error as RotatedAnswerUnusableError;
      expect(rotated.rotatedRefreshToken).toBe('rotated-refresh-token');
      expect(rotated.refreshTokenExpiresIn).toBe(10 * 365 * 86_400);
      expect(rotated.outcome).toBe('unknown');
      // Never serialized: not in the message, not in JSON, not among the enumerable properties.
      expect(JSON.stringify(error)).not.toContain('rotated-refresh-token');
      expect(Object.keys(error)).not.toContain('rotatedRefreshToken');
      expect(error.message).not.toContain('rotated-refresh-token');
    });

    it('fails an unusable answer without a refresh token as it always did', async () => {
      respond = json(200, { ...TOKEN, token_type: 'mac' });
      const error = await failure(() => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }));
      expect(error).toBeInstanceOf(InvalidProviderResponseError);
      expect(error).not.toBeInstanceOf(RotatedAnswerUnusableError);
      expect(error.outcome).toBe('unknown');
    });
  });

  describe('what is known of whether the request reached the provider', () => {
    const refresh = () => failure(() => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }));
    it.each([
      ['an OAuth error answer', json(400, { error: 'invalid_grant' }), 'refused'],
      ['a 429', json(429, { error: 'slow_down' }), 'refused'],
      ['a 503 with an OAuth error', json(503, { error: 'temporarily_unavailable' }), 'unknown'],
      ['an HTML 500', raw(500, 'text/html', '<h1>oops</h1>'), 'unknown'],
      ['an unreadable 200', raw(200, 'application/json', '{"access_token":"tr'), 'unknown'],
      ['a reset after the send', (req: IncomingMessage) => req.socket.destroy(), 'unknown'],
    ] as [string, Responder, string][])('%s: %s', async (_, responder, outcome) => {
      respond = responder;
      expect((await refresh()).outcome).toBe(outcome);
    });

    it('a timeout after the send is unknown; a refused connection never left', async () => {
      respond = () => undefined;
      const hung = await failure(() =>
        protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }, { timeoutMs: 200 }),
      );
      expect(hung.outcome).toBe('unknown');
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const refused = await failure(() =>
        protocol.refresh(
          resolveProvider({ provider: 'bloomerang', tokenUrl: `http://127.0.0.1:${port}/token` }),
          CLIENT,
          { refreshToken: REFRESH },
        ),
      );
      expect(refused.outcome).toBe('not_sent');
    });
  });

  it('honours Retry-After on 429, in seconds and as an HTTP date', async () => {
    respond = json(429, { error: 'slow_down' }, { 'retry-after': '7' });
    const seconds = await failure(() => protocol.clientCredentials(bloom(), CLIENT));
    expect(seconds).toBeInstanceOf(TransientProviderError);
    expect(seconds.message).toMatch(/rate limiting/);
    expect(seconds.retryAfterMs).toBe(7000);
    expect(seconds.httpStatus).toBe(429);

    respond = (_, res) => {
      res.writeHead(429, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
      res.end();
    };
    const date = await failure(() => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }));
    expect(date).toBeInstanceOf(TransientProviderError);
    expect(date.retryAfterMs).toBeGreaterThan(25_000);
    expect(date.retryAfterMs).toBeLessThanOrEqual(30_000);

    respond = json(429, { error: 'slow_down' });
    const none = await failure(() => protocol.clientCredentials(bloom(), CLIENT));
    expect(none).toBeInstanceOf(TransientProviderError);
    expect(none.retryAfterMs).toBeUndefined();
  });

  it('gives up on an endpoint that never answers within the timeout', async () => {
    respond = () => undefined;
    const started = Date.now();
    const hung = await failure(() => protocol.clientCredentials(bloom(), CLIENT, { timeoutMs: 300 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(hung).toBeInstanceOf(TransientProviderError);
    expect(hung.message).toBe('token endpoint did not answer within 300 ms');
    expect(hung.retryable).toBe(true);
  });

  it('gives up on an endpoint that sends its headers and then stalls the body', async () => {
    respond = (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"access_token":"${TOKEN.access_token}",`);
    };
    const started = Date.now();
    const stalled = await failure(() =>
      protocol.exchangeCode(
        bloomerang(),
        CLIENT,
        { code: CODE, redirectUri: 'https://b/cb' },
        { timeoutMs: 300 },
      ),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(stalled).toBeInstanceOf(TransientProviderError);
    expect(stalled.message).toContain('300 ms');
  });

  it('stops when the caller aborts', async () => {
    respond = () => undefined;
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const aborted = await failure(() =>
      protocol.clientCredentials(bloom(), CLIENT, { timeoutMs: 5_000, signal: controller.signal }),
    );
    expect(aborted).toBeInstanceOf(TransientProviderError);
    expect(aborted.message).toBe('the token request was cancelled by the broker');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('treats a refused connection as transient', async () => {
    const closed = resolveProvider({
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: 'http://127.0.0.1:1/token',
    });
    const error = await failure(() => protocol.clientCredentials(closed, CLIENT, { timeoutMs: 2_000 }));
    expect(error).toBeInstanceOf(TransientProviderError);
    expect(error.message).toMatch(/could not be reached/);
    expect(error.retryable).toBe(true);
  });

  it('assumes the configured lifetime when expires_in is missing, and says so', async () => {
    respond = json(200, { access_token: 'x', token_type: 'bearer' });
    expect(
      await protocol.clientCredentials(bloom(), CLIENT, { defaultExpiresInSeconds: 1234 }),
    ).toMatchObject({
      expiresIn: 1234,
      expiresInDefaulted: true,
      tokenType: 'Bearer',
    });
    expect(await protocol.clientCredentials(bloom(), CLIENT)).toMatchObject({
      expiresIn: 3600,
      expiresInDefaulted: true,
    });
  });

  it('ignores an OpenID Connect id_token instead of refusing the answer over an issuer it cannot know', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const now = Math.floor(Date.now() / 1000);
    const idToken = [
      part({ alg: 'ES256' }),
      part({
        iss: 'https://login.example/tenant/v2.0',
        aud: CLIENT.clientId,
        sub: 'u',
        iat: now,
        exp: now + 60,
      }),
      'signature',
    ].join('.');
    respond = json(200, { ...TOKEN, refresh_token: 'rotated-refresh-token', id_token: idToken });
    const provider = generic({ scopes: ['openid', 'offline_access'] });
    const exchanged = await protocol.exchangeCode(provider, CLIENT, {
      code: CODE,
      redirectUri: 'https://b/cb',
    });
    expect(exchanged).toMatchObject({
      accessToken: TOKEN.access_token,
      refreshToken: 'rotated-refresh-token',
    });
    expect(exchanged).not.toHaveProperty('idToken');
    const refreshed = await protocol.refresh(provider, CLIENT, { refreshToken: REFRESH });
    expect(refreshed.accessToken).toBe(TOKEN.access_token);
  });

  it('accepts a numeric expires_in sent as a string, as some providers do', async () => {
    respond = json(200, { ...TOKEN, expires_in: '1800' });
    expect(await protocol.clientCredentials(bloom(), CLIENT)).toMatchObject({
      expiresIn: 1800,
      expiresInDefaulted: false,
    });
  });
});
