import { SANDBOX_CLIENTS, type SandboxOptions } from './sandbox';
import { basicAuthorization, bearer, startTestSandbox, type HttpResponse, type TestSandbox } from './testing';

const { clientId, clientSecret, audience } = SANDBOX_CLIENTS.bloom;
const V2 = '/bloom/oauth2/token';
const V1 = '/bloom/oauth/token';

let server: TestSandbox;

async function start(options: SandboxOptions = {}): Promise<void> {
  server = await startTestSandbox(options);
}

afterEach(() => server.sandbox.close());

const v2Form = (overrides: Record<string, string | undefined> = {}) =>
  definedOnly({
    client_id: clientId,
    client_secret: clientSecret,
    audience,
    scope: 'data-access:all',
    grant_type: 'client_credentials',
    ...overrides,
  });

function definedOnly(fields: Record<string, string | undefined>): URLSearchParams {
  return new URLSearchParams(
    Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

function expectOAuthError(response: HttpResponse, status: number, error: string): void {
  expect({ status: response.status, body: response.json() }).toEqual({
    status,
    body: { error, error_description: expect.any(String) },
  });
}

interface BloomToken {
  access_token: string;
  scope: string;
}

describe('Bloom v2 /oauth2/token', () => {
  it('issues a Bearer token without a refresh token that works at the Bloom API', async () => {
    await start();
    const response = await server.post(V2, v2Form({ scope: 'data-access:all furnishment:all' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = response.json<BloomToken>();
    expect(body).toEqual({
      access_token: expect.any(String),
      scope: 'data-access:all furnishment:all',
      expires_in: 86400,
      token_type: 'Bearer',
    });
    const resource = await server.get('/bloom/v2/resource', bearer(body.access_token));
    expect(resource.json()).toEqual({ clientId, scope: 'data-access:all furnishment:all' });
    expect(server.sandbox.stats().tokenRequests.byProvider.bloom).toEqual({ client_credentials: 1 });
  });

  it('grants exactly the scopes asked for, once each', async () => {
    await start();
    const response = await server.post(V2, v2Form({ scope: 'furnishment:all furnishment:all' }));
    expect(response.json<BloomToken>().scope).toBe('furnishment:all');
  });

  it('refuses a missing or unknown audience with 403 access_denied, as Auth0 does', async () => {
    await start();
    expectOAuthError(await server.post(V2, v2Form({ audience: undefined })), 403, 'access_denied');
    expectOAuthError(await server.post(V2, v2Form({ audience: 'api.bloomcredit.io' })), 403, 'access_denied');
  });

  it('requires a scope and refuses one the client does not hold', async () => {
    await start();
    expectOAuthError(await server.post(V2, v2Form({ scope: undefined })), 400, 'invalid_request');
    const refused = await server.post(V2, v2Form({ scope: 'data-access:all read:consumers' }));
    expectOAuthError(refused, 400, 'invalid_scope');
    expect(refused.json<{ error_description: string }>().error_description).toContain('read:consumers');
  });

  it('accepts the client credentials only as form fields', async () => {
    await start();
    const basicOnly = await server.post(V2, v2Form({ client_id: undefined, client_secret: undefined }), {
      authorization: basicAuthorization(clientId, clientSecret),
    });
    expectOAuthError(basicOnly, 401, 'invalid_client');
    expectOAuthError(await server.post(V2, v2Form({ client_secret: 'wrong' })), 401, 'invalid_client');
    expectOAuthError(await server.post(V2, v2Form({ client_secret: undefined })), 401, 'invalid_client');
    expect(server.sandbox.stats().invalidClient).toBe(3);
  });

  it('supports only client_credentials', async () => {
    await start();
    expectOAuthError(
      await server.post(V2, v2Form({ grant_type: 'password' })),
      400,
      'unsupported_grant_type',
    );
    expectOAuthError(await server.post(V2, v2Form({ grant_type: undefined })), 400, 'invalid_request');
  });

  it('lets tokens live bloomTokenTtlSeconds', async () => {
    await start({ bloomTokenTtlSeconds: 0.05 });
    const body = (await server.post(V2, v2Form())).json<BloomToken & { expires_in: number }>();
    expect(body.expires_in).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await server.get('/bloom/v2/resource', bearer(body.access_token))).status).toBe(401);
  });
});

describe('Bloom v1 /oauth/token', () => {
  it('takes no scope and grants every scope the client holds', async () => {
    await start();
    const response = await server.post(V1, v2Form({ scope: undefined }));
    expect(response.status).toBe(200);
    const body = response.json<BloomToken>();
    expect(body.scope).toBe('data-access:all furnishment:all');
    expect((await server.get('/bloom/v2/resource', bearer(body.access_token))).status).toBe(200);
  });

  it('still checks the audience and the client', async () => {
    await start();
    expectOAuthError(await server.post(V1, v2Form({ audience: 'other' })), 403, 'access_denied');
    expectOAuthError(await server.post(V1, v2Form({ client_secret: 'wrong' })), 401, 'invalid_client');
  });
});

describe('Bloom API', () => {
  it('answers only to Bloom tokens', async () => {
    await start();
    const generic = await server.post(
      '/generic/token',
      new URLSearchParams({ grant_type: 'client_credentials' }),
      {
        authorization: basicAuthorization(
          SANDBOX_CLIENTS.generic.clientId,
          SANDBOX_CLIENTS.generic.clientSecret,
        ),
      },
    );
    const genericToken = generic.json<BloomToken>().access_token;
    expect((await server.get('/generic/resource', bearer(genericToken))).status).toBe(200);
    expect((await server.get('/bloom/v2/resource', bearer(genericToken))).status).toBe(401);
    expect((await server.get('/bloom/v2/resource')).status).toBe(401);
  });
});
