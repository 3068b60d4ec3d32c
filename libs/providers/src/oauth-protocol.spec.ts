import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { protocolFor } from './oauth-protocol';
import { IntegrationProviderConfig, resolveProvider, ResolvedProvider } from './provider-config';
import {
  InvalidProviderResponseError,
  NeedsReauthorizationError,
  ProviderError,
  ProviderMisconfiguredError,
  TransientProviderError,
} from './provider-errors';

interface Recorded {
  method?: string;
  headers: IncomingMessage['headers'];
  form: URLSearchParams;
}

type Responder = (req: IncomingMessage, res: ServerResponse) => void;

const CLIENT = { clientId: 'client id/ä', clientSecret: 'se:cret+&=' };
const REFRESH = 'refresh-token-value-123';
const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Responder =>
  (_, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };
const TOKEN = {
  access_token: 'access-token-value-456',
  token_type: 'Bearer',
  expires_in: 3600,
  scope: 'OrgAdmin',
};

describe('the OAuth protocol on the wire', () => {
  let server: Server;
  let baseUrl: string;
  let recorded: Recorded[] = [];
  let respond: Responder = json(200, TOKEN);
  const protocol = protocolFor('oauth2');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        recorded.push({ method: req.method, headers: req.headers, form: new URLSearchParams(body) });
        respond(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  beforeEach(() => {
    recorded = [];
    respond = json(200, TOKEN);
  });

  const bloomerang = (): ResolvedProvider =>
    resolveProvider({
      provider: 'bloomerang',
      tokenUrl: `${baseUrl}/v2/oauth/token`,
      authorizationUrl: `${baseUrl}/Authorize`,
    });
  const bloom = (authVersion: 'v1' | 'v2' = 'v2'): ResolvedProvider =>
    resolveProvider({
      provider: 'bloom',
      audience: 'dev-api.bloom.dev',
      authVersion,
      scopes: authVersion === 'v2' ? ['data-access:all', 'furnishment:all'] : undefined,
      tokenUrl: `${baseUrl}/oauth2/token`,
    });

  it('builds the Bloomerang authorization URL', () => {
    const url = new URL(
      protocol.authorizationUrl({ ...bloomerang(), scopes: ['OrgAdmin'] }, CLIENT, {
        state: 'state-1',
        redirectUri: 'https://broker.example/oauth/callback',
      }),
    );
    expect(url.pathname).toBe('/Authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: CLIENT.clientId,
      redirect_uri: 'https://broker.example/oauth/callback',
      state: 'state-1',
      scope: 'OrgAdmin',
    });
  });

  it('exchanges a code with HTTP Basic (RFC 6749 2.3.1 encoding) and the exact redirect_uri', async () => {
    const tokens = await protocol.exchangeCode(bloomerang(), CLIENT, {
      code: 'the-code',
      redirectUri: 'https://b/cb',
    });
    expect(tokens).toMatchObject({
      accessToken: TOKEN.access_token,
      tokenType: 'Bearer',
      expiresIn: 3600,
      scope: 'OrgAdmin',
    });
    const [request] = recorded;
    const basic = Buffer.from(request.headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    const [id, secret] = basic.split(':');
    expect(decodeURIComponent(id.replace(/\+/g, ' '))).toBe(CLIENT.clientId);
    expect(decodeURIComponent(secret.replace(/\+/g, ' '))).toBe(CLIENT.clientSecret);
    expect(Object.fromEntries(request.form)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://b/cb',
    });
  });

  it('refreshes with the refresh token only, and a scope only when narrowing', async () => {
    respond = json(200, { ...TOKEN, refresh_token: 'rotated' });
    const tokens = await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH });
    expect(tokens.refreshToken).toBe('rotated');
    expect(Object.fromEntries(recorded[0].form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: REFRESH,
    });
    await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH, scopes: ['Standard'] });
    expect(recorded[1].form.get('scope')).toBe('Standard');
  });

  it('keeps the old refresh token when the provider does not rotate it', async () => {
    expect(
      (await protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH })).refreshToken,
    ).toBeUndefined();
  });

  it('sends Bloom v2 credentials, audience and scope in the form, and no Authorization header', async () => {
    await protocol.clientCredentials(bloom(), CLIENT);
    const [request] = recorded;
    expect(request.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(request.form)).toEqual({
      grant_type: 'client_credentials',
      client_id: CLIENT.clientId,
      client_secret: CLIENT.clientSecret,
      audience: 'dev-api.bloom.dev',
      scope: 'data-access:all furnishment:all',
    });
  });

  it('sends no scope to Bloom v1', async () => {
    await protocol.clientCredentials(bloom('v1'), CLIENT);
    expect(recorded[0].form.has('scope')).toBe(false);
    expect(recorded[0].form.get('audience')).toBe('dev-api.bloom.dev');
  });

  it('supports both client authentication methods and extra parameters for generic OAuth 2.0', async () => {
    const base: IntegrationProviderConfig = {
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: `${baseUrl}/token`,
      scopes: ['a', 'b'],
    };
    await protocol.clientCredentials(
      resolveProvider({ ...base, extraTokenParams: { resource: 'https://api' } }),
      CLIENT,
    );
    expect(recorded[0].headers.authorization).toMatch(/^Basic /);
    expect(recorded[0].form.get('resource')).toBe('https://api');
    expect(recorded[0].form.get('scope')).toBe('a b');
    await protocol.clientCredentials(
      resolveProvider({ ...base, tokenAuthMethod: 'client_secret_post' }),
      CLIENT,
    );
    expect(recorded[1].headers.authorization).toBeUndefined();
    expect(recorded[1].form.get('client_secret')).toBe(CLIENT.clientSecret);
  });

  async function failure(call: () => Promise<unknown>): Promise<ProviderError> {
    try {
      await call();
    } catch (error) {
      expect(error).toBeInstanceOf(ProviderError);
      const message = (error as Error).message;
      for (const secret of [CLIENT.clientSecret, REFRESH, 'the-code', TOKEN.access_token])
        expect(message).not.toContain(secret);
      return error as ProviderError;
    }
    throw new Error('expected a provider error');
  }

  it.each<[string, Responder, new (...args: never[]) => ProviderError, RegExp]>([
    [
      '400 invalid_grant',
      json(400, { error: 'invalid_grant', error_description: 'used' }),
      NeedsReauthorizationError,
      /invalid_grant/,
    ],
    [
      '401 invalid_client',
      json(401, { error: 'invalid_client' }),
      ProviderMisconfiguredError,
      /invalid_client/,
    ],
    [
      '401 with WWW-Authenticate',
      json(401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="x"' }),
      ProviderMisconfiguredError,
      /client/,
    ],
    [
      '403 access_denied',
      json(403, { error: 'access_denied', error_description: 'bad audience' }),
      ProviderMisconfiguredError,
      /audience/,
    ],
    [
      'HTML 500',
      (_, res) => {
        res.writeHead(500, { 'content-type': 'text/html' });
        res.end('<html><body>oops</body></html>');
      },
      TransientProviderError,
      /HTTP 500 with an HTML page/,
    ],
    [
      '200 invalid JSON',
      (_, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"access_token": "abc');
      },
      InvalidProviderResponseError,
      /not a valid token response/,
    ],
    [
      'token_type mac',
      json(200, { ...TOKEN, token_type: 'mac' }),
      InvalidProviderResponseError,
      /token_type/,
    ],
    ['expires_in 0', json(200, { ...TOKEN, expires_in: 0 }), InvalidProviderResponseError, /expires_in/],
    [
      'expires_in negative',
      json(200, { ...TOKEN, expires_in: -5 }),
      InvalidProviderResponseError,
      /expires_in/,
    ],
  ])('classifies %s', async (_, responder, Kind, message) => {
    respond = responder;
    const error = await failure(() => protocol.refresh(bloomerang(), CLIENT, { refreshToken: REFRESH }));
    expect(error).toBeInstanceOf(Kind);
    expect(error.message).toMatch(message);
  });

  it('honours Retry-After on 429, in seconds and as an HTTP date', async () => {
    respond = json(429, { error: 'slow_down' }, { 'retry-after': '7' });
    const seconds = await failure(() => protocol.clientCredentials(bloom(), CLIENT));
    expect(seconds).toBeInstanceOf(TransientProviderError);
    expect(seconds.retryAfterMs).toBe(7000);
    respond = (_, res) => {
      res.writeHead(429, { 'retry-after': new Date(Date.now() + 30_000).toUTCString() });
      res.end();
    };
    const date = await failure(() => protocol.clientCredentials(bloom(), CLIENT));
    expect(date.retryAfterMs).toBeGreaterThan(25_000);
  });

  it('gives up on a hanging endpoint within the timeout, headers or body', async () => {
    respond = () => undefined; // never answers
    let started = Date.now();
    const hung = await failure(() => protocol.clientCredentials(bloom(), CLIENT, { timeoutMs: 300 }));
    expect(hung).toBeInstanceOf(TransientProviderError);
    expect(hung.message).toContain('300 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
    respond = (_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"access_token":'); // then stalls
    };
    started = Date.now();
    expect(
      await failure(() => protocol.clientCredentials(bloom(), CLIENT, { timeoutMs: 300 })),
    ).toBeInstanceOf(TransientProviderError);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('treats a refused connection as transient', async () => {
    const closed = resolveProvider({
      provider: 'oauth2',
      grantType: 'client_credentials',
      tokenUrl: 'http://127.0.0.1:1/token',
    });
    const error = await failure(() => protocol.clientCredentials(closed, CLIENT));
    expect(error).toBeInstanceOf(TransientProviderError);
    expect(error.retryable).toBe(true);
  });

  it('assumes the configured lifetime when expires_in is missing, and says so', async () => {
    respond = json(200, { access_token: 'x', token_type: 'bearer' });
    const tokens = await protocol.clientCredentials(bloom(), CLIENT, { defaultExpiresInSeconds: 1234 });
    expect(tokens).toMatchObject({ expiresIn: 1234, expiresInDefaulted: true });
  });
});
