/**
 * A small HTTP client for specs that drive a listening sandbox (in-process specs must use real HTTP, not
 * app.inject). Free of jest globals, so it compiles with the rest of the app.
 */
import { createSandbox, SANDBOX_CLIENTS, type Sandbox, type SandboxOptions } from './sandbox';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  json<T = unknown>(): T;
}

export interface TestSandbox {
  readonly sandbox: Sandbox;
  readonly baseUrl: string;
  get(path: string, headers?: Record<string, string>): Promise<HttpResponse>;
  /** URLSearchParams are sent form-encoded, anything else as JSON. */
  post(
    path: string,
    body?: URLSearchParams | object,
    headers?: Record<string, string>,
  ): Promise<HttpResponse>;
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = createSandbox(options);
  const baseUrl = await sandbox.listen(0);
  const send = async (path: string, init: RequestInit): Promise<HttpResponse> => {
    const response = await fetch(new URL(path, baseUrl), { redirect: 'manual', ...init });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, json: <T>() => JSON.parse(text) as T };
  };
  return {
    sandbox,
    baseUrl,
    get: (path, headers = {}) => send(path, { headers }),
    post: (path, body, headers = {}) =>
      send(path, {
        method: 'POST',
        headers: {
          ...(body === undefined
            ? {}
            : {
                'content-type':
                  body instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json',
              }),
          ...headers,
        },
        body: body === undefined || body instanceof URLSearchParams ? body : JSON.stringify(body),
      }),
  };
}

/**
 * `Authorization: Basic` the way RFC 6749 2.3.1 has clients build it (each half form-encoded first),
 * or `literal`: the id and secret as they are, the way Bloomerang documents it.
 */
export function basicAuthorization(
  clientId: string,
  clientSecret: string,
  encoding: 'form-encoded' | 'literal' = 'form-encoded',
): string {
  const encode =
    encoding === 'literal'
      ? (value: string) => value
      : (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export const bearer = (accessToken: string) => ({ authorization: `Bearer ${accessToken}` });

/**
 * One sandbox provider per rotation rule of the broker's catalogue (`none`, `rotating`, `single_use`,
 * `grace`): HubSpot keeps its refresh token, DocuSign keeps the old one valid, Bloomerang revokes the
 * whole chain on a reuse, Xero accepts a reuse for 30 minutes.
 */
export const ROTATION_KIND_PROVIDERS = {
  none: { provider: 'hubspot', scope: 'crm.objects.contacts.read' },
  rotating: { provider: 'docusign', scope: 'signature extended' },
  single_use: { provider: 'bloomerang', scope: 'Standard' },
  grace: { provider: 'xero', scope: 'offline_access accounting.transactions' },
} as const;
export type RotationKind = keyof typeof ROTATION_KIND_PROVIDERS;

const FLOW_REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

/** Where a rotation kind's provider lives and how its client authenticates. */
interface KindEndpoints {
  readonly authorize: string;
  readonly token: string;
  readonly clientId: string;
  auth(body: URLSearchParams): { body: URLSearchParams; headers: Record<string, string> };
}

function kindEndpoints(kind: RotationKind): KindEndpoints {
  const { provider } = ROTATION_KIND_PROVIDERS[kind];
  if (provider === 'bloomerang') {
    const { clientId, clientSecret } = SANDBOX_CLIENTS.bloomerang;
    return {
      authorize: '/bloomerang/Authorize',
      token: '/bloomerang/v2/oauth/token',
      clientId,
      auth: (body: URLSearchParams) => ({
        body,
        headers: { authorization: basicAuthorization(clientId, clientSecret, 'literal') },
      }),
    };
  }
  const { clientId, clientSecret } = {
    clientId: `sandbox-${provider}`,
    clientSecret: `sandbox-${provider}-secret`,
  };
  return {
    authorize: `/${provider}/authorize`,
    token: `/${provider}/token`,
    clientId,
    auth: (body: URLSearchParams): { body: URLSearchParams; headers: Record<string, string> } => {
      if (provider === 'hubspot') {
        body.set('client_id', clientId);
        body.set('client_secret', clientSecret);
        return { body, headers: {} };
      }
      return { body, headers: { authorization: basicAuthorization(clientId, clientSecret) } };
    },
  };
}

/** The code flow at a rotation kind's provider for `account`; the token endpoint's answer. */
export async function authorizeKind(
  server: TestSandbox,
  kind: RotationKind,
  account: string,
): Promise<HttpResponse> {
  const endpoints = kindEndpoints(kind);
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: endpoints.clientId,
    redirect_uri: FLOW_REDIRECT_URI,
    state: 'state-1',
    scope: ROTATION_KIND_PROVIDERS[kind].scope,
    sandbox_decision: 'approve',
    sandbox_account: account,
  });
  const redirect = await server.get(`${endpoints.authorize}?${query}`);
  const code = new URL(redirect.headers.get('location') ?? '').searchParams.get('code');
  if (redirect.status !== 302 || !code) throw new Error(`no code from ${kind}: ${redirect.status}`);
  const { body, headers } = endpoints.auth(
    new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: FLOW_REDIRECT_URI }),
  );
  return server.post(endpoints.token, body, headers);
}

/** A refresh at a rotation kind's provider. */
export function refreshKind(
  server: TestSandbox,
  kind: RotationKind,
  refreshToken: string,
): Promise<HttpResponse> {
  const { path, body, headers } = refreshKindRequest(kind, refreshToken);
  return server.post(path, body, headers);
}

/** The parts of a refresh request at a rotation kind's provider, for a client of one's own. */
export function refreshKindRequest(
  kind: RotationKind,
  refreshToken: string,
): { path: string; body: URLSearchParams; headers: Record<string, string> } {
  const endpoints = kindEndpoints(kind);
  const { body, headers } = endpoints.auth(
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  );
  return {
    path: endpoints.token,
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  };
}
