import { createHash } from 'node:crypto';
import { SANDBOX_CLIENTS, type SandboxOptions } from './sandbox';
import { basicAuthorization, bearer, startTestSandbox, type HttpResponse, type TestSandbox } from './testing';

const { clientId, clientSecret } = SANDBOX_CLIENTS.generic;
const REDIRECT_URI = 'http://localhost:7000/oauth/callback';
const BASIC = { authorization: basicAuthorization(clientId, clientSecret) };
const VERIFIER = 'a-verifier-that-is-long-enough-for-rfc-7636-at-43-chars';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

let server: TestSandbox;

async function start(options: SandboxOptions = {}): Promise<void> {
  server = await startTestSandbox({ autoApprove: true, ...options });
}

afterEach(() => server.sandbox.close());

function authorize(params: Record<string, string>): Promise<HttpResponse> {
  return server.get(
    `/generic/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, ...params })}`,
  );
}

function redirectParams(response: HttpResponse): URLSearchParams {
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location') as string).searchParams;
}

async function obtainCode(params: Record<string, string> = {}): Promise<string> {
  return redirectParams(await authorize({ redirect_uri: REDIRECT_URI, ...params })).get('code') as string;
}

const token = (form: Record<string, string>, headers: Record<string, string> = BASIC) =>
  server.post('/generic/token', new URLSearchParams(form), headers);

const exchange = (
  code: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = BASIC,
) => token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, ...extra }, headers);

interface Tokens {
  access_token: string;
  refresh_token: string;
  scope?: string;
}

async function connect(scope = 'read write'): Promise<Tokens> {
  const response = await exchange(await obtainCode({ scope }));
  expect(response.status).toBe(200);
  return response.json<Tokens>();
}

const refresh = (refreshToken: string, extra: Record<string, string> = {}) =>
  token({ grant_type: 'refresh_token', refresh_token: refreshToken, ...extra });

const resource = (accessToken: string) => server.get('/generic/resource', bearer(accessToken));

describe('generic OAuth 2.0 provider', () => {
  it('runs the authorization code flow with client_secret_basic or client_secret_post', async () => {
    await start();
    const viaBasic = await exchange(await obtainCode({ scope: 'read  write read', state: 's' }));
    expect(viaBasic.json()).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'read write',
      refresh_token: expect.any(String),
    });
    const viaPost = await exchange(
      await obtainCode(),
      { client_id: clientId, client_secret: clientSecret },
      {},
    );
    expect(viaPost.status).toBe(200);
    const body = viaPost.json<Tokens>();
    expect(body.scope).toBeUndefined();
    expect((await resource(body.access_token)).json()).toEqual({
      clientId,
      account: 'sandbox-account',
      scope: '',
    });
  });

  it('refuses two client authentication methods at once, and wrong credentials either way', async () => {
    await start();
    const both = await exchange(
      await obtainCode(),
      { client_id: clientId, client_secret: clientSecret },
      BASIC,
    );
    expect(both.json()).toMatchObject({ error: 'invalid_request' });
    const wrongPost = await token(
      { grant_type: 'client_credentials', client_id: clientId, client_secret: 'x' },
      {},
    );
    expect(wrongPost.status).toBe(401);
    const wrongBasic = await token(
      { grant_type: 'client_credentials' },
      { authorization: basicAuthorization(clientId, 'x') },
    );
    expect(wrongBasic.status).toBe(401);
    expect(wrongBasic.headers.get('www-authenticate')).toBe('Basic realm="generic"');
  });

  it('form-decodes the Basic credentials (RFC 6749 2.3.1), so every way of encoding them passes', async () => {
    const client = {
      ...SANDBOX_CLIENTS.generic,
      clientId: 'id:with space-._~',
      clientSecret: 'p@ss word+%-._~',
    };
    await start({ clients: [client] });
    const formEncoded = basicAuthorization(client.clientId, client.clientSecret);
    expect(Buffer.from(formEncoded.slice(6), 'base64').toString()).toBe(
      'id%3Awith+space-._~:p%40ss+word%2B%25-._~',
    );
    const strict = `Basic ${Buffer.from('id%3Awith+space%2D%2E%5F%7E:p%40ss+word%2B%25%2D%2E%5F%7E').toString('base64')}`;
    for (const authorization of [formEncoded, strict]) {
      const response = await token({ grant_type: 'client_credentials' }, { authorization });
      expect(response.status).toBe(200);
    }
    const notEncoded = await token(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${Buffer.from('id:with space-._~:p@ss word+%-._~').toString('base64')}` },
    );
    expect(notEncoded.status).toBe(401);
  });

  it('does not require state, and sends no state back when none was given', async () => {
    await start();
    const params = redirectParams(await authorize({ redirect_uri: REDIRECT_URI }));
    expect(params.has('code')).toBe(true);
    expect(params.has('state')).toBe(false);
  });

  it('shows an approve/deny page without autoApprove, posting to /generic/authorize/decision', async () => {
    await start({ autoApprove: false });
    const page = await authorize({ redirect_uri: REDIRECT_URI, state: 's' });
    expect(page.text).toContain('action="/generic/authorize/decision"');
    const denied = await server.post(
      '/generic/authorize/decision',
      new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT_URI,
        sandbox_decision: 'deny',
      }),
    );
    expect(redirectParams(denied).get('error')).toBe('access_denied');
  });

  it('enforces PKCE when the authorization request carried a code_challenge', async () => {
    await start();
    const code = await obtainCode({ code_challenge: CHALLENGE, code_challenge_method: 'S256' });
    expect((await exchange(code)).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await exchange(code, { code_verifier: `${VERIFIER}x` })).json()).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await exchange(code, { code_verifier: VERIFIER })).status).toBe(200);

    const malformed = await authorize({ redirect_uri: REDIRECT_URI, code_challenge: 'short' });
    expect(redirectParams(malformed).get('error')).toBe('invalid_request');
  });

  it('requires redirect_uri at the token endpoint only if the authorization request carried it', async () => {
    const registered = 'https://app.example/callback';
    await start({ clients: [{ ...SANDBOX_CLIENTS.generic, redirectUris: [registered] }] });
    const withoutUri = redirectParams(await authorize({})).get('code') as string;
    expect((await token({ grant_type: 'authorization_code', code: withoutUri })).status).toBe(200);

    const withUri = redirectParams(await authorize({ redirect_uri: registered })).get('code') as string;
    expect((await token({ grant_type: 'authorization_code', code: withUri })).json()).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('refuses a reused code and revokes its tokens', async () => {
    await start();
    const code = await obtainCode();
    const first = (await exchange(code)).json<Tokens>();
    expect((await exchange(code)).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await resource(first.access_token)).status).toBe(401);
    expect(server.sandbox.stats()).toMatchObject({ codeReuses: 1, revokedChains: 1 });
  });

  it('rotates refresh tokens and revokes the chain when a used one comes back', async () => {
    await start();
    const first = await connect();
    const second = (await refresh(first.refresh_token)).json<Tokens>();
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect((await refresh(first.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await resource(second.access_token)).status).toBe(401);
    expect((await refresh(second.refresh_token)).status).toBe(400);
  });

  it('lets a refresh narrow the scope to a subset and refuses a wider one', async () => {
    await start();
    const tokens = await connect('read write');
    expect((await refresh(tokens.refresh_token, { scope: 'read admin' })).json()).toMatchObject({
      error: 'invalid_scope',
    });
    const narrowed = (await refresh(tokens.refresh_token, { scope: 'write' })).json<Tokens>();
    expect(narrowed.scope).toBe('write');
    expect((await refresh(narrowed.refresh_token)).json<Tokens>().scope).toBe('write');
  });

  it('issues client credentials tokens with the requested scope and no refresh token', async () => {
    await start();
    const response = await token({ grant_type: 'client_credentials', scope: 'reports' });
    const body = response.json<Tokens>();
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'reports',
    });
    expect((await resource(body.access_token)).json()).toEqual({ clientId, account: null, scope: 'reports' });
    expect((await token({ grant_type: 'password' })).json()).toMatchObject({
      error: 'unsupported_grant_type',
    });
  });
});
