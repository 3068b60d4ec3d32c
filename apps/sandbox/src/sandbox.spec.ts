import { createSandbox, SANDBOX_CLIENTS, type SandboxOptions } from './sandbox';
import { basicAuthorization, bearer, startTestSandbox, type TestSandbox } from './testing';

const bloom = SANDBOX_CLIENTS.bloom;
const bloomerang = SANDBOX_CLIENTS.bloomerang;

let server: TestSandbox;

async function start(options: SandboxOptions = {}): Promise<void> {
  server = await startTestSandbox(options);
}

afterEach(() => server.sandbox.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function bloomToken() {
  return server.post(
    '/bloom/oauth2/token',
    new URLSearchParams({
      client_id: bloom.clientId,
      client_secret: bloom.clientSecret,
      audience: bloom.audience,
      scope: 'data-access:all',
      grant_type: 'client_credentials',
    }),
  );
}

function genericToken() {
  return server.post('/generic/token', new URLSearchParams({ grant_type: 'client_credentials' }), {
    authorization: basicAuthorization(SANDBOX_CLIENTS.generic.clientId, SANDBOX_CLIENTS.generic.clientSecret),
  });
}

/** A Bloomerang connection: the refresh token shows whether a request consumed anything. */
async function bloomerangTokens(): Promise<{ access_token: string; refresh_token: string }> {
  const redirectUri = 'http://127.0.0.1:9/oauth/callback';
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: bloomerang.clientId,
    state: 's',
    redirect_uri: redirectUri,
    sandbox_decision: 'approve',
  });
  const location = (await server.get(`/bloomerang/Authorize?${query}`)).headers.get('location') as string;
  const code = new URL(location).searchParams.get('code') as string;
  const response = await server.post(
    '/bloomerang/v2/oauth/token',
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
    { authorization: basicAuthorization(bloomerang.clientId, bloomerang.clientSecret, 'literal') },
  );
  return response.json();
}

function bloomerangRefresh(refreshToken: string) {
  return server.post(
    '/bloomerang/v2/oauth/token',
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
    { authorization: basicAuthorization(bloomerang.clientId, bloomerang.clientSecret, 'literal') },
  );
}

describe('createSandbox', () => {
  it('listens on a free port and resolves the base URL', async () => {
    await start();
    expect(server.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await server.get('/_sandbox/stats')).status).toBe(200);
  });

  it('close() does not wait for token requests still in their delay', async () => {
    await start({ tokenLatencyMs: 5000 });
    const pending = bloomToken();
    await sleep(50);
    const startedAt = Date.now();
    await server.sandbox.close();
    expect(Date.now() - startedAt).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it('refuses invalid options and duplicate clients', () => {
    expect(() => createSandbox({ accessTokenTtlSeconds: 0 })).toThrow(/accessTokenTtlSeconds/);
    expect(() => createSandbox({ clients: [bloom, bloom] })).toThrow(/listed twice/);
    expect(() => createSandbox({ maxRecordsPerKind: 0 })).toThrow(/maxRecordsPerKind/);
  });
});

describe('/_sandbox/stats', () => {
  it('starts at zero and reports the same as stats()', async () => {
    await start();
    const zero = { bloomerang: 0, bloom: 0, generic: 0 };
    const expected = {
      tokenRequests: { total: 0, byProvider: { bloomerang: {}, bloom: {}, generic: {} } },
      codeUses: 0,
      codeReuses: 0,
      refreshTokenUses: 0,
      refreshTokenReuses: 0,
      revokedChains: 0,
      invalidClient: 0,
      liveRecordsEvicted: 0,
      maxConcurrentTokenRequests: zero,
      inFlightTokenRequests: zero,
      profiles: expect.objectContaining({
        google: expect.objectContaining({ tokenRequests: {}, refreshGrants: 0, refreshTokenReuses: 0 }),
      }),
    };
    expect(server.sandbox.stats()).toEqual(expected);
    expect((await server.get('/_sandbox/stats')).json()).toEqual(expected);
  });

  it('counts token requests per provider and grant type, and never shows token values', async () => {
    await start();
    const tokens = await bloomerangTokens();
    await bloomerangRefresh(tokens.refresh_token);
    await bloomToken();
    await server.post('/generic/token', new URLSearchParams({ grant_type: 'magic' }));
    const stats = (await server.get('/_sandbox/stats')).json<{ tokenRequests: unknown }>();
    expect(stats.tokenRequests).toEqual({
      total: 4,
      byProvider: {
        bloomerang: { authorization_code: 1, refresh_token: 1 },
        bloom: { client_credentials: 1 },
        generic: { other: 1 },
      },
    });
    expect(JSON.stringify(stats)).not.toContain(tokens.refresh_token);
    expect(JSON.stringify(stats)).not.toContain(tokens.access_token);
  });

  it('records the peak of concurrent token requests per provider', async () => {
    await start({ tokenLatencyMs: 100 });
    await Promise.all([bloomToken(), bloomToken(), bloomToken()]);
    await genericToken();
    await genericToken();
    expect(server.sandbox.stats()).toMatchObject({
      maxConcurrentTokenRequests: { bloom: 3, generic: 1, bloomerang: 0 },
      inFlightTokenRequests: { bloom: 0, generic: 0, bloomerang: 0 },
    });
  });
});

describe('/_sandbox/config', () => {
  it('applies a patch and answers the resulting settings', async () => {
    await start();
    const response = await server.post('/_sandbox/config', { tokenLatencyMs: 20, bloomTokenTtlSeconds: 60 });
    expect(response.json()).toEqual({
      accessTokenTtlSeconds: 3600,
      refreshTokenTtlSeconds: 7776000,
      codeTtlSeconds: 600,
      bloomTokenTtlSeconds: 60,
      autoApprove: false,
      tokenLatencyMs: 20,
      fault: 'none',
      faultProvider: null,
      faultCount: null,
      faultRules: [],
      slowAnswerMs: 60_000,
      profiles: {},
    });
    expect((await server.get('/_sandbox/config')).json()).toEqual(response.json());
    expect((await bloomToken()).json()).toMatchObject({ expires_in: 60 });
  });

  it.each([
    [{ tokenLatencyMs: -1 }, 'tokenLatencyMs'],
    [{ fault: 'explode' }, 'fault'],
    [{ latencyMs: 5 }, 'Unknown setting "latencyMs"'],
    [{ faultCount: 2 }, 'together with fault'],
    [{ fault: 'hang', faultProvider: 'github' }, 'faultProvider'],
    [[1], 'JSON object'],
  ])('refuses %j with a 400 that says what is wrong', async (patch, message) => {
    await start();
    const response = await server.post('/_sandbox/config', patch);
    expect(response.status).toBe(400);
    expect(response.json()).toEqual({
      error: 'invalid_request',
      error_description: expect.stringContaining(message),
    });
    expect(server.sandbox.settings().fault).toBe('none');
  });
});

describe('/_sandbox/reset', () => {
  it('forgets tokens and counters and restores the settings given at creation', async () => {
    await start({ bloomTokenTtlSeconds: 120 });
    const accessToken = (await bloomToken()).json<{ access_token: string }>().access_token;
    server.sandbox.configure({ bloomTokenTtlSeconds: 5, fault: 'html500' });

    expect((await server.post('/_sandbox/reset')).status).toBe(204);
    expect((await server.get('/bloom/v2/resource', bearer(accessToken))).status).toBe(401);
    expect(server.sandbox.stats().tokenRequests.total).toBe(0);
    expect(server.sandbox.settings()).toMatchObject({ bloomTokenTtlSeconds: 120, fault: 'none' });
  });
});

describe('/_sandbox/expire-access-tokens', () => {
  it('expires every live access token, leaving refresh tokens usable', async () => {
    await start();
    const bloomAccess = (await bloomToken()).json<{ access_token: string }>().access_token;
    const tokens = await bloomerangTokens();
    expect((await server.post('/_sandbox/expire-access-tokens')).json()).toEqual({ expired: 2 });
    expect((await server.get('/bloom/v2/resource', bearer(bloomAccess))).status).toBe(401);
    expect((await server.get('/bloomerang/v2/me', bearer(tokens.access_token))).status).toBe(401);
    expect((await bloomerangRefresh(tokens.refresh_token)).status).toBe(200);
  });
});

describe('faults', () => {
  it('html500: answers 500 with an HTML page', async () => {
    await start();
    server.sandbox.configure({ fault: 'html500' });
    const response = await bloomToken();
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('invalidJson: answers 200 application/json with a body that does not parse', async () => {
    await start();
    server.sandbox.configure({ fault: 'invalidJson' });
    const response = await bloomToken();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(() => JSON.parse(response.text)).toThrow(SyntaxError);
  });

  it.each([
    ['rateLimited', 429, '2'],
    ['unavailable', 503, '1'],
  ] as const)('%s: answers %d with Retry-After', async (fault, status, retryAfter) => {
    await start();
    server.sandbox.configure({ fault });
    const response = await bloomToken();
    expect(response.status).toBe(status);
    expect(response.headers.get('retry-after')).toBe(retryAfter);
  });

  it('hang: never answers, holding its in-flight slot until the client gives up', async () => {
    await start();
    server.sandbox.configure({ fault: 'hang' });
    const client = new AbortController();
    const pending = fetch(`${server.baseUrl}/generic/token`, { method: 'POST', signal: client.signal });
    await sleep(100);
    expect(server.sandbox.stats().inFlightTokenRequests.generic).toBe(1);
    client.abort();
    await expect(pending).rejects.toThrow();
    for (
      let attempt = 0;
      attempt < 20 && server.sandbox.stats().inFlightTokenRequests.generic > 0;
      attempt++
    ) {
      await sleep(10);
    }
    expect(server.sandbox.stats().inFlightTokenRequests.generic).toBe(0);
  });

  it('hang: close() ends the hanging request instead of waiting for it', async () => {
    await start();
    server.sandbox.configure({ fault: 'hang' });
    const pending = bloomToken();
    await sleep(50);
    const startedAt = Date.now();
    await server.sandbox.close();
    expect(Date.now() - startedAt).toBeLessThan(1000);
    await expect(pending).rejects.toThrow();
  });

  it('consumes nothing: a refresh token survives a faulted request', async () => {
    await start();
    const tokens = await bloomerangTokens();
    server.sandbox.configure({ fault: 'unavailable' });
    expect((await bloomerangRefresh(tokens.refresh_token)).status).toBe(503);
    server.sandbox.configure({ fault: 'none' });
    expect((await bloomerangRefresh(tokens.refresh_token)).status).toBe(200);
    expect(server.sandbox.stats().refreshTokenReuses).toBe(0);
  });

  it('faultProvider limits the fault to one provider', async () => {
    await start();
    server.sandbox.configure({ fault: 'html500', faultProvider: 'generic' });
    expect((await bloomToken()).status).toBe(200);
    expect((await genericToken()).status).toBe(500);
  });

  it('faultCount applies the fault to the next N token requests only', async () => {
    await start();
    await server.post('/_sandbox/config', { fault: 'rateLimited', faultCount: 2 });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await bloomToken()).status);
    expect(statuses).toEqual([429, 429, 200]);
    expect(server.sandbox.settings()).toMatchObject({ fault: 'none', faultCount: null });
  });

  it('a new fault patch drops the provider and count of the previous one', async () => {
    await start();
    server.sandbox.configure({ fault: 'hang', faultProvider: 'bloom', faultCount: 5 });
    server.sandbox.configure({ fault: 'html500' });
    expect(server.sandbox.settings()).toMatchObject({
      fault: 'html500',
      faultProvider: null,
      faultCount: null,
    });
  });
});
