import { SANDBOX_CLIENTS } from '../../apps/sandbox/src/sandbox';
import { basicAuthorization } from '../../apps/sandbox/src/testing';
import { admin, request } from './http';

/** Creates a Bloomerang integration whose endpoints are the sandbox's. */
export async function createBloomerangIntegration(
  brokerUrl: string,
  sandboxUrl: string,
  key: string,
): Promise<void> {
  const response = await admin(brokerUrl).post('/admin/integrations', {
    key,
    provider: 'bloomerang',
    clientId: SANDBOX_CLIENTS.bloomerang.clientId,
    clientSecret: SANDBOX_CLIENTS.bloomerang.clientSecret,
    authorizationUrl: `${sandboxUrl}/bloomerang/Authorize`,
    tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token`,
  });
  if (response.status !== 201)
    throw new Error(`integration not created: ${response.status} ${response.text}`);
}

/** Creates a Bloom (v2) integration whose token endpoint is the sandbox's. */
export async function createBloomIntegration(
  brokerUrl: string,
  sandboxUrl: string,
  key: string,
  overrides: Record<string, unknown> = {},
) {
  return admin(brokerUrl).post('/admin/integrations', {
    key,
    provider: 'bloom',
    clientId: SANDBOX_CLIENTS.bloom.clientId,
    clientSecret: SANDBOX_CLIENTS.bloom.clientSecret,
    audience: SANDBOX_CLIENTS.bloom.audience,
    scopes: ['data-access:all'],
    tokenUrl: `${sandboxUrl}/bloom/oauth2/token`,
    ...overrides,
  });
}

/**
 * Plays the account's user: opens the authorization URL on the sandbox with a decision and
 * returns the callback URL the sandbox redirects to (pointed at `callbackBase`).
 */
export async function authorizeAtSandbox(
  authorizationUrl: string,
  callbackBase: string,
  decision: 'approve' | 'deny' = 'approve',
): Promise<string> {
  const response = await fetch(`${authorizationUrl}&sandbox_decision=${decision}`, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location) {
    throw new Error(`sandbox did not redirect: ${response.status} ${await response.text()}`);
  }
  const callback = new URL(location);
  return `${callbackBase}${callback.pathname}${callback.search}`;
}

/** Creates a connection and completes its authorization through the sandbox; returns the callback URL used. */
export async function connectBloomerang(
  brokerUrl: string,
  integration: string,
  key: string,
): Promise<{ callbackUrl: string; authorizationUrl: string }> {
  const created = await admin(brokerUrl).post('/admin/connections', { key, integration });
  if (created.status !== 201) throw new Error(`connection not created: ${created.status} ${created.text}`);
  const authorizationUrl: string = created.body.authorizationUrl;
  const callbackUrl = await authorizeAtSandbox(authorizationUrl, brokerUrl);
  const completed = await request(brokerUrl, 'GET', callbackUrl.slice(brokerUrl.length), { token: null });
  if (completed.status !== 200) throw new Error(`callback failed: ${completed.status} ${completed.text}`);
  return { callbackUrl, authorizationUrl };
}

/** A client API key allowed to read the given connections. */
export async function createApiKey(brokerUrl: string, connections: string[] = ['*']): Promise<string> {
  const response = await admin(brokerUrl).post('/admin/clients', { name: `test-${Date.now()}`, connections });
  if (response.status !== 201) throw new Error(`client not created: ${response.status} ${response.text}`);
  return response.body.apiKey;
}

/** Tokens a provider issued to another system (another broker, a team's own tables), to import. */
export interface IssuedGrant {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  scope: string;
}

/**
 * Plays another system that authorized an account at the sandbox's Bloomerang: the code flow,
 * then the code exchange. The sandbox honours the refresh token once and revokes its chain on reuse.
 */
export async function issueBloomerangGrant(sandboxUrl: string): Promise<IssuedGrant> {
  const { clientId, clientSecret } = SANDBOX_CLIENTS.bloomerang;
  const redirectUri = 'http://127.0.0.1/oauth/callback';
  const authorize = new URL(`${sandboxUrl}/bloomerang/Authorize`);
  authorize.search = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: redirectUri,
    state: 'authorized-elsewhere',
    sandbox_decision: 'approve',
  }).toString();
  const redirect = await fetch(authorize, { redirect: 'manual' });
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
  if (redirect.status !== 302 || !code) throw new Error(`sandbox gave no code: ${redirect.status}`);
  const exchange = await fetch(`${sandboxUrl}/bloomerang/v2/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: basicAuthorization(clientId, clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
  });
  const body = (await exchange.json()) as Record<string, string> & { expires_in: number };
  if (exchange.status !== 200) throw new Error(`code exchange failed: ${exchange.status}`);
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresIn: body.expires_in,
    scope: body.scope,
  };
}
