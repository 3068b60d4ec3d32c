import { SANDBOX_CLIENTS, type SandboxOptions } from './sandbox';
import { basicAuthorization, bearer, startTestSandbox, type HttpResponse, type TestSandbox } from './testing';

const { clientId, clientSecret } = SANDBOX_CLIENTS.bloomerang;
const REDIRECT_URI = 'http://127.0.0.1:5555/oauth/callback';
const TOKEN_PATH = '/bloomerang/v2/oauth/token';

const basic = (id: string = clientId, secret: string = clientSecret) =>
  basicAuthorization(id, secret, 'literal');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let server: TestSandbox;

async function start(options: SandboxOptions = {}): Promise<TestSandbox> {
  server = await startTestSandbox({ autoApprove: true, ...options });
  return server;
}

afterEach(() => server.sandbox.close());

function authorize(params: Record<string, string>, method: 'GET' | 'POST' = 'GET') {
  return method === 'GET'
    ? server.get(`/bloomerang/Authorize?${new URLSearchParams(params)}`)
    : server.post('/bloomerang/Authorize/decision', new URLSearchParams(params));
}

const authorizeQuery = (extra: Record<string, string> = {}) => ({
  response_type: 'code',
  client_id: clientId,
  state: 'xyz',
  redirect_uri: REDIRECT_URI,
  ...extra,
});

function redirectParams(response: HttpResponse): URLSearchParams {
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') as string).searchParams;
}

async function obtainCode(extra: Record<string, string> = {}): Promise<string> {
  const code = redirectParams(await authorize(authorizeQuery(extra))).get('code');
  expect(code).toEqual(expect.any(String));
  return code as string;
}

/** `authorization: null` sends no Authorization header at all. */
function token(form: Record<string, string> | URLSearchParams, authorization: string | null = basic()) {
  return server.post(TOKEN_PATH, new URLSearchParams(form), authorization === null ? {} : { authorization });
}

const exchange = (code: string, redirectUri = REDIRECT_URI) =>
  token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri });

const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
  token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope: string;
}

async function connect(extra: Record<string, string> = {}): Promise<Tokens> {
  const response = await exchange(await obtainCode(extra));
  expect(response.status).toBe(200);
  return response.json<Tokens>();
}

const me = (accessToken: string) => server.get('/bloomerang/v2/me', bearer(accessToken));

function expectOAuthError(response: HttpResponse, status: number, error: string): void {
  expect({ status: response.status, body: response.json() }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
}

describe('Bloomerang /Authorize', () => {
  it('shows an error page, never a redirect, for an unknown client_id', async () => {
    await start();
    const response = await authorize(authorizeQuery({ client_id: 'someone-else' }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('location')).toBeNull();
  });

  it.each([
    ['another path', 'http://127.0.0.1:5555/elsewhere'],
    ['a non-loopback host', 'http://evil.example/oauth/callback'],
    ['https on loopback (not registered)', 'https://localhost/oauth/callback'],
    ['a fragment', `${REDIRECT_URI}#frag`],
    ['no redirect_uri and none registered', ''],
  ])('shows an error page for a redirect_uri with %s', async (_case, redirectUri) => {
    await start();
    const response = await authorize(authorizeQuery({ redirect_uri: redirectUri }));
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('accepts any loopback port and keeps the redirect_uri query, appending code and state', async () => {
    await start();
    const redirectUri = 'http://localhost:61234/oauth/callback?tenant=a';
    const response = await authorize(authorizeQuery({ redirect_uri: redirectUri }));
    const location = new URL(response.headers.get('location') as string);
    expect(`${location.origin}${location.pathname}`).toBe('http://localhost:61234/oauth/callback');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      tenant: 'a',
      code: expect.any(String),
      state: 'xyz',
    });
  });

  it('compares with registered URIs ignoring the query, and falls back to the first one when omitted', async () => {
    const registered = 'https://app.example/cb';
    await start({ clients: [{ ...SANDBOX_CLIENTS.bloomerang, redirectUris: [registered] }] });
    expect((await authorize(authorizeQuery({ redirect_uri: REDIRECT_URI }))).status).toBe(400);
    expect(
      redirectParams(await authorize(authorizeQuery({ redirect_uri: `${registered}?x=1` }))).get('code'),
    ).toBeTruthy();

    const fallback = await authorize({ response_type: 'code', client_id: clientId, state: 's' });
    expect((fallback.headers.get('location') as string).startsWith(`${registered}?code=`)).toBe(true);
    const code = redirectParams(fallback).get('code') as string;
    expectOAuthError(await token({ grant_type: 'authorization_code', code }), 400, 'invalid_request');
    expect((await exchange(code, registered)).status).toBe(200);
  });

  it.each<[string, Record<string, string>, string]>([
    ['an invalid scope', { scope: 'Admin' }, 'invalid_scope'],
    ['an unsupported response_type', { response_type: 'token' }, 'unsupported_response_type'],
    ['no state', { state: '' }, 'invalid_request'],
  ])('redirects back with an error for %s', async (_case, extra, error) => {
    await start();
    const params = redirectParams(await authorize(authorizeQuery(extra)));
    expect(params.get('error')).toBe(error);
    expect(params.get('code')).toBeNull();
    expect(params.get('state')).toBe(extra.state === '' ? null : 'xyz');
  });

  it('grants OrgAdmin when no scope is asked for, and the scope asked for otherwise', async () => {
    await start();
    expect((await connect()).scope).toBe('OrgAdmin');
    expect((await connect({ scope: 'StandardEditFinancialData' })).scope).toBe('StandardEditFinancialData');
  });

  it('without autoApprove shows an approve/deny page whose form decides', async () => {
    await start({ autoApprove: false });
    const page = await authorize(authorizeQuery({ scope: 'Standard' }));
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/bloomerang/Authorize/decision"');
    expect(page.text).toContain('value="approve"');
    expect(page.text).toContain('value="deny"');
    expect(page.text).toContain('name="state" value="xyz"');

    const approved = redirectParams(
      await authorize({ ...authorizeQuery({ scope: 'Standard' }), sandbox_decision: 'approve' }, 'POST'),
    );
    expect(approved.get('state')).toBe('xyz');
    const tokens = (await exchange(approved.get('code') as string)).json<Tokens>();
    expect(tokens.scope).toBe('Standard');

    const denied = redirectParams(await authorize({ ...authorizeQuery(), sandbox_decision: 'deny' }, 'POST'));
    expect(Object.fromEntries(denied)).toMatchObject({ error: 'access_denied', state: 'xyz' });
    expect((await authorize(authorizeQuery(), 'POST')).status).toBe(400);
  });

  it('lets sandbox_decision deny even with autoApprove, and escapes what it echoes into the page', async () => {
    await start();
    const denied = redirectParams(await authorize(authorizeQuery({ sandbox_decision: 'deny' })));
    expect(denied.get('error')).toBe('access_denied');

    server.sandbox.configure({ autoApprove: false });
    const page = await authorize(authorizeQuery({ state: '"><script>alert(1)</script>' }));
    expect(page.text).not.toContain('<script>');
  });

  it('binds the code to the account named on the consent form', async () => {
    await start();
    const tokens = await connect({ sandbox_account: 'org-42' });
    expect((await me(tokens.access_token)).json()).toEqual({ account: 'org-42', scope: 'OrgAdmin' });
  });
});

describe('Bloomerang token endpoint: authorization code', () => {
  it('issues a Bearer token and a refresh token, not cacheable, that work at /v2/me', async () => {
    await start();
    const response = await exchange(await obtainCode());
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = response.json<Tokens>();
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'OrgAdmin',
      refresh_token: expect.any(String),
    });
    expect((await me(body.access_token)).json()).toEqual({ account: 'sandbox-account', scope: 'OrgAdmin' });
    expect(server.sandbox.stats()).toMatchObject({ codeUses: 1, tokenRequests: { total: 1 } });
  });

  it('refuses a second use of a code and revokes the tokens issued from it', async () => {
    await start();
    const code = await obtainCode();
    const first = (await exchange(code)).json<Tokens>();
    const other = await connect(); // another authorization must not be touched

    expectOAuthError(await exchange(code), 400, 'invalid_grant');
    expect((await me(first.access_token)).status).toBe(401);
    expectOAuthError(await refresh(first.refresh_token), 400, 'invalid_grant');
    expect((await me(other.access_token)).status).toBe(200);
    expect(server.sandbox.stats()).toMatchObject({ codeUses: 2, codeReuses: 1, revokedChains: 1 });
  });

  it('refuses an expired code', async () => {
    await start({ codeTtlSeconds: 0.05 });
    const code = await obtainCode();
    await sleep(80);
    expectOAuthError(await exchange(code), 400, 'invalid_grant');
  });

  it('requires the exact redirect_uri of the authorization request, without consuming the code on a mismatch', async () => {
    await start();
    const code = await obtainCode({ redirect_uri: `${REDIRECT_URI}?a=1` });
    expectOAuthError(await exchange(code, REDIRECT_URI), 400, 'invalid_grant');
    expectOAuthError(await token({ grant_type: 'authorization_code', code }), 400, 'invalid_request');
    expect((await exchange(code, `${REDIRECT_URI}?a=1`)).status).toBe(200);
  });

  it('refuses a code issued to another client', async () => {
    const second = { ...SANDBOX_CLIENTS.bloomerang, clientId: 'second', clientSecret: 'second-secret' };
    await start({ clients: [SANDBOX_CLIENTS.bloomerang, second] });
    const code = await obtainCode();
    const response = await token(
      { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
      basic('second', 'second-secret'),
    );
    expectOAuthError(response, 400, 'invalid_grant');
  });

  it.each([
    ['no credentials', {}, null],
    ['credentials in the body', { client_id: clientId, client_secret: clientSecret }, null],
    ['Basic plus a body secret', { client_secret: clientSecret }, basic()],
    ['a wrong secret', {}, basic(clientId, 'wrong')],
    ['an unknown client', {}, basic('nobody', clientSecret)],
    ['a Basic value without a colon', {}, `Basic ${Buffer.from('nocolon').toString('base64')}`],
  ])('answers 401 invalid_client with a Basic challenge for %s', async (_case, form, authorization) => {
    await start();
    const response = await token(
      { grant_type: 'authorization_code', code: await obtainCode(), redirect_uri: REDIRECT_URI, ...form },
      authorization,
    );
    expectOAuthError(response, 401, 'invalid_client');
    expect(response.headers.get('www-authenticate')).toMatch(/^Basic /);
    expect(server.sandbox.stats().invalidClient).toBe(1);
  });

  describe('takes the Basic username and password literally, as Bloomerang documents', () => {
    const client = {
      ...SANDBOX_CLIENTS.bloomerang,
      clientId: 'blm-client_0.1~a',
      clientSecret: 'blm-secret:9fK2qW_x.y~z+%41',
    };

    it('accepts the id and secret as they are, ":" in the secret included', async () => {
      await start({ clients: [client] });
      const authorization = basic(client.clientId, client.clientSecret);
      expect(Buffer.from(authorization.slice(6), 'base64').toString()).toBe(
        'blm-client_0.1~a:blm-secret:9fK2qW_x.y~z+%41',
      );
      const code = await obtainCode({ client_id: client.clientId });
      const response = await token(
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
        authorization,
      );
      expect(response.status).toBe(200);
    });

    it.each([
      ['form-encoded (RFC 6749 2.3.1)', basicAuthorization(client.clientId, client.clientSecret)],
      [
        'percent-encoded like oauth4webapi (every "-" as %2D)',
        `Basic ${Buffer.from('blm%2Dclient%5F0%2E1%7Ea:blm%2Dsecret%3A9fK2qW%5Fx%2Ey%7Ez%2B%2541').toString('base64')}`,
      ],
    ])('refuses the credentials %s: no percent-decoding', async (_case, authorization) => {
      await start({ clients: [client] });
      const code = await obtainCode({ client_id: client.clientId });
      const response = await token(
        { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI },
        authorization,
      );
      expectOAuthError(response, 401, 'invalid_client');
    });
  });

  it('answers malformed requests with the documented errors', async () => {
    await start();
    expectOAuthError(await token({ grant_type: 'client_credentials' }), 400, 'unsupported_grant_type');
    expectOAuthError(await token({ code: 'x' }), 400, 'invalid_request');
    expectOAuthError(
      await token({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI }),
      400,
      'invalid_request',
    );
    // RFC 6749 3.2: a repeated parameter makes the request invalid, even one that is optional.
    const { refresh_token } = await connect();
    const repeated = new URLSearchParams({ grant_type: 'refresh_token', refresh_token });
    repeated.append('scope', 'Standard');
    repeated.append('scope', 'OrgAdmin');
    expectOAuthError(await token(repeated), 400, 'invalid_request');
    const json = await server.post(
      TOKEN_PATH,
      { grant_type: 'refresh_token', refresh_token: 'a' },
      { authorization: basic() },
    );
    expectOAuthError(json, 400, 'invalid_request');
  });
});

describe('Bloomerang token endpoint: refresh token', () => {
  it('rotates: a new access token and a new refresh token, both different', async () => {
    await start();
    const first = await connect();
    const response = await refresh(first.refresh_token);
    expect(response.status).toBe(200);
    const second = response.json<Tokens>();
    expect(second).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'OrgAdmin' });
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.access_token)).status).toBe(200);
    expect((await refresh(second.refresh_token)).status).toBe(200);
    expect(server.sandbox.stats().refreshTokenUses).toBe(2);
  });

  it('treats a used refresh token as theft: refuses it and revokes the whole chain, newest tokens included', async () => {
    await start();
    const first = await connect();
    const second = (await refresh(first.refresh_token)).json<Tokens>();
    const third = (await refresh(second.refresh_token)).json<Tokens>();
    const other = await connect();

    expectOAuthError(await refresh(first.refresh_token), 400, 'invalid_grant');
    for (const tokens of [first, second, third]) expect((await me(tokens.access_token)).status).toBe(401);
    expectOAuthError(await refresh(third.refresh_token), 400, 'invalid_grant');
    expect((await me(other.access_token)).status).toBe(200);
    expect(server.sandbox.stats()).toMatchObject({
      refreshTokenUses: 2,
      refreshTokenReuses: 1,
      revokedChains: 1,
    });
  });

  it('lets a refresh narrow the scope, keeps it when omitted, and refuses one wider than the original grant', async () => {
    await start();
    const standardGrant = await connect({ scope: 'StandardEditFinancialData' });
    const wider = await refresh(standardGrant.refresh_token, { scope: 'OrgAdmin' });
    expectOAuthError(wider, 400, 'invalid_scope');
    expectOAuthError(
      await refresh(standardGrant.refresh_token, { scope: 'Everything' }),
      400,
      'invalid_scope',
    );

    // The refused requests did not consume the token.
    const narrowed = (await refresh(standardGrant.refresh_token, { scope: 'Standard' })).json<Tokens>();
    expect(narrowed.scope).toBe('Standard');
    expect((await me(narrowed.access_token)).json()).toMatchObject({ scope: 'Standard' });
    const kept = (await refresh(narrowed.refresh_token)).json<Tokens>();
    expect(kept.scope).toBe('Standard');
    // "Must not be greater than the scope originally granted": back up to it is fine.
    const restored = (
      await refresh(kept.refresh_token, { scope: 'StandardEditFinancialData' })
    ).json<Tokens>();
    expect(restored.scope).toBe('StandardEditFinancialData');
  });

  it('refuses an expired refresh token, and an access token stops working once expired', async () => {
    await start({ refreshTokenTtlSeconds: 0.05, accessTokenTtlSeconds: 0.05 });
    const tokens = await connect();
    expect(tokens).toMatchObject({ expires_in: 1 });
    await sleep(80);
    expect((await me(tokens.access_token)).status).toBe(401);
    expectOAuthError(await refresh(tokens.refresh_token), 400, 'invalid_grant');
  });

  it('refuses a refresh token of another provider or client', async () => {
    await start();
    const tokens = await connect();
    const generic = await server.post(
      '/generic/token',
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
      { authorization: basic(SANDBOX_CLIENTS.generic.clientId, SANDBOX_CLIENTS.generic.clientSecret) },
    );
    expectOAuthError(generic, 400, 'invalid_grant');
    expect((await refresh(tokens.refresh_token)).status).toBe(200);
  });
});

describe('Bloomerang /v2/me', () => {
  it('answers 401 with a Bearer challenge without a token or with an unknown one', async () => {
    await start();
    const missing = await server.get('/bloomerang/v2/me');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="bloomerang"');
    const unknown = await me('not-a-token');
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});

describe('Bloomerang token latency', () => {
  it('delays before processing, so nothing is consumed until the delay is over', async () => {
    await start({ tokenLatencyMs: 150 });
    const tokens = await connect();
    const pending = refresh(tokens.refresh_token);
    await sleep(50);
    expect(server.sandbox.stats()).toMatchObject({
      refreshTokenUses: 0,
      inFlightTokenRequests: { bloomerang: 1 },
    });
    expect((await pending).status).toBe(200);
    expect(server.sandbox.stats().refreshTokenUses).toBe(1);
  });

  it('still processes a request whose client gave up during the delay, as an upstream server would', async () => {
    await start({ tokenLatencyMs: 100 });
    const tokens = await connect();
    const abandoned = fetch(`${server.baseUrl}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { authorization: basic() },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
      signal: AbortSignal.timeout(30),
    });
    await expect(abandoned).rejects.toThrow();
    await sleep(150);
    expect(server.sandbox.stats().refreshTokenUses).toBe(1);
    expectOAuthError(await refresh(tokens.refresh_token), 400, 'invalid_grant');
  });

  it('lets two concurrent refreshes with one token race as upstream: one wins, the other revokes the chain', async () => {
    await start({ tokenLatencyMs: 50 });
    const tokens = await connect();
    const [a, b] = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    const winner = (a.status === 200 ? a : b).json<Tokens>();
    expect((await me(winner.access_token)).status).toBe(401);
    expect(server.sandbox.stats()).toMatchObject({
      refreshTokenReuses: 1,
      maxConcurrentTokenRequests: { bloomerang: 2 },
    });
  });
});

describe('the sandbox memory ceiling (maxRecordsPerKind)', () => {
  it('forgets the oldest token past the ceiling, refuses it like an unknown one, and counts it', async () => {
    await start({ maxRecordsPerKind: 3 });
    const grants = [await connect(), await connect(), await connect()];
    expect(server.sandbox.stats().liveRecordsEvicted).toBe(0);
    // A fourth grant pushes out the oldest code, access token and refresh token, all still live.
    grants.push(await connect());
    expect(server.sandbox.stats().liveRecordsEvicted).toBe(3);
    expectOAuthError(await refresh(grants[0].refresh_token), 400, 'invalid_grant');
    expect((await refresh(grants[3].refresh_token)).status).toBe(200);
  });

  it('keeps every live token under a ceiling raised above the run', async () => {
    await start({ maxRecordsPerKind: 1_000 });
    const grants = [];
    for (let i = 0; i < 5; i++) grants.push(await connect());
    for (const grant of grants) expect((await refresh(grant.refresh_token)).status).toBe(200);
    expect(server.sandbox.stats().liveRecordsEvicted).toBe(0);
  });
});
