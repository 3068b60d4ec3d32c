import { SANDBOX_CLIENTS } from '../../apps/sandbox/src/sandbox';
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
