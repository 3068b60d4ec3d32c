/** The providers the sandbox imitates; each is served under `/<name>/`. */
export const PROVIDER_NAMES = ['bloomerang', 'bloom', 'generic'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

interface RegisteredClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * A client that redirects users back to itself. Without `redirectUris` any loopback URI whose path is
 * `/oauth/callback` is accepted, so tests and the first-look script can listen on whatever port is free.
 */
export interface RedirectingClient extends RegisteredClient {
  readonly redirectUris?: readonly string[];
}

export interface BloomerangClient extends RedirectingClient {
  readonly provider: 'bloomerang';
}

export interface BloomClient extends RegisteredClient {
  readonly provider: 'bloom';
  /** The only audience this client's tokens may be minted for. */
  readonly audience: string;
  /** Scopes the v2 endpoint may grant; the legacy v1 endpoint grants all of them. */
  readonly scopes: readonly string[];
}

export interface GenericClient extends RedirectingClient {
  readonly provider: 'generic';
}

export type SandboxClient = BloomerangClient | BloomClient | GenericClient;
export type ClientOf<P extends ProviderName> = Extract<SandboxClient, { provider: P }>;

/** The seeded clients; the broker's tests and the first-look script use these same credentials. */
export const SANDBOX_CLIENTS = {
  bloomerang: {
    provider: 'bloomerang',
    clientId: 'sandbox-bloomerang',
    clientSecret: 'sandbox-bloomerang-secret',
  },
  bloom: {
    provider: 'bloom',
    clientId: 'sandbox-bloom',
    clientSecret: 'sandbox-bloom-secret',
    audience: 'dev-api.bloom.dev',
    scopes: ['data-access:all', 'furnishment:all'],
  },
  generic: {
    provider: 'generic',
    clientId: 'sandbox-generic',
    clientSecret: 'sandbox-generic-secret',
  },
} as const satisfies { [P in ProviderName]: ClientOf<P> };

export class ClientRegistry {
  private readonly clients = new Map<string, SandboxClient>();

  constructor(clients: readonly SandboxClient[]) {
    for (const client of clients) {
      const key = registryKey(client.provider, client.clientId);
      if (this.clients.has(key)) {
        throw new Error(`Sandbox client ${client.provider}/${client.clientId} is listed twice`);
      }
      this.clients.set(key, client);
    }
  }

  find<P extends ProviderName>(provider: P, clientId: string): ClientOf<P> | undefined {
    return this.clients.get(registryKey(provider, clientId)) as ClientOf<P> | undefined;
  }
}

function registryKey(provider: ProviderName, clientId: string): string {
  return `${provider}\u0000${clientId}`;
}

export type RedirectUriResolution =
  | { readonly ok: true; readonly redirectUri: string; readonly given: boolean }
  | { readonly ok: false; readonly reason: string };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1']);
const DEFAULT_CALLBACK_PATH = '/oauth/callback';

/**
 * Checks an authorization request's redirect_uri the way Bloomerang documents it: it must match a
 * registered URI once its query component is removed, must not carry a fragment, and falls back to the
 * registered URI when omitted.
 */
export function resolveRedirectUri(
  client: Pick<RedirectingClient, 'redirectUris'>,
  given: string | undefined,
): RedirectUriResolution {
  if (given === undefined) {
    const registered = client.redirectUris?.[0];
    return registered === undefined
      ? { ok: false, reason: 'redirect_uri is required: this client has no registered redirect URI.' }
      : { ok: true, redirectUri: registered, given: false };
  }
  if (given.includes('#')) {
    return { ok: false, reason: 'redirect_uri must not include a fragment component.' };
  }
  const url = parseUrl(given);
  if (url === undefined) {
    return { ok: false, reason: 'redirect_uri is not an absolute URI.' };
  }
  const accepted = client.redirectUris
    ? client.redirectUris.some((registered) => withoutQuery(parseUrl(registered)) === withoutQuery(url))
    : url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname) && url.pathname === DEFAULT_CALLBACK_PATH;
  return accepted
    ? { ok: true, redirectUri: given, given: true }
    : { ok: false, reason: 'redirect_uri does not match a redirect URI registered for this client.' };
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function withoutQuery(url: URL | undefined): string | undefined {
  return url && `${url.origin}${url.pathname}`;
}
