import * as oauth from 'oauth4webapi';
import { isLoopbackUrl, ProviderKind, ResolvedProvider } from './provider-config';
import {
  InvalidProviderResponseError,
  NeedsReauthorizationError,
  parseRetryAfter,
  ProviderError,
  ProviderMisconfiguredError,
  safeDescription,
  TransientProviderError,
} from './provider-errors';

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface TokenSet {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds, > 0. */
  expiresIn: number;
  scope?: string;
  /** Absent when the provider did not rotate it: the caller keeps the old one. */
  refreshToken?: string;
  refreshTokenExpiresIn?: number;
  /** The provider omitted expires_in and `defaultExpiresInSeconds` was used. */
  expiresInDefaulted: boolean;
}

export interface ProtocolCallOptions {
  /** Headers and body together; default 10 s. */
  timeoutMs?: number;
  /** Lifetime assumed when the provider omits expires_in; default 3600. */
  defaultExpiresInSeconds?: number;
  signal?: AbortSignal;
}

/** One provider's token protocol, as the broker uses it. */
export interface OAuthProtocol {
  authorizationUrl(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { state: string; redirectUri: string; scopes?: string[] },
  ): string;
  exchangeCode(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { code: string; redirectUri: string },
    options?: ProtocolCallOptions,
  ): Promise<TokenSet>;
  refresh(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { refreshToken: string; scopes?: string[] },
    options?: ProtocolCallOptions,
  ): Promise<TokenSet>;
  clientCredentials(
    provider: ResolvedProvider,
    client: ClientCredentials,
    options?: ProtocolCallOptions,
  ): Promise<TokenSet>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_EXPIRES_IN = 3600;
const PROVIDER_NAMES: Record<ProviderKind, string> = {
  bloomerang: 'Bloomerang',
  bloom: 'Bloom',
  oauth2: 'the provider',
};

/** What the wire showed of the last answer, for classifying a failure oauth4webapi reports. */
interface Exchange {
  status?: number;
  contentType?: string;
  retryAfter?: string | null;
}

/**
 * The OAuth 2.0 token protocol on oauth4webapi, parameterised by the resolved provider: Bloomerang
 * (authorization code, HTTP Basic), Bloom (client credentials with audience, form-field client
 * authentication; v1 without scope) and generic OAuth 2.0 share it; their differences live in
 * `resolveProvider`.
 */
export class OAuth4WebApiProtocol implements OAuthProtocol {
  authorizationUrl(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { state: string; redirectUri: string; scopes?: string[] },
  ): string {
    if (!provider.authorizationUrl) throw new Error('this provider has no authorization endpoint');
    const url = new URL(provider.authorizationUrl);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('redirect_uri', args.redirectUri);
    url.searchParams.set('state', args.state);
    const scopes = args.scopes ?? provider.scopes;
    if (scopes.length > 0) url.searchParams.set('scope', scopes.join(' '));
    return url.toString();
  }

  async exchangeCode(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { code: string; redirectUri: string },
    options: ProtocolCallOptions = {},
  ): Promise<TokenSet> {
    const { as, oauthClient, auth } = this.parties(provider, client);
    // The broker checked and consumed the state itself before calling here.
    const callback = oauth.validateAuthResponse(
      as,
      oauthClient,
      new URLSearchParams({ code: args.code }),
      oauth.skipStateCheck,
    );
    return this.call(
      provider,
      options,
      'the authorization code',
      [client.clientSecret, args.code],
      async (requestOptions) => {
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          oauthClient,
          auth,
          callback,
          args.redirectUri,
          oauth.nopkce,
          { ...requestOptions, additionalParameters: provider.extraTokenParams },
        );
        return oauth.processAuthorizationCodeResponse(as, oauthClient, response);
      },
    );
  }

  async refresh(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { refreshToken: string; scopes?: string[] },
    options: ProtocolCallOptions = {},
  ): Promise<TokenSet> {
    const { as, oauthClient, auth } = this.parties(provider, client);
    const parameters = new URLSearchParams(provider.extraTokenParams);
    // Scope only when narrowing was asked: omitted, the provider keeps the granted scope.
    if (args.scopes?.length) parameters.set('scope', args.scopes.join(' '));
    return this.call(
      provider,
      options,
      'the refresh token',
      [client.clientSecret, args.refreshToken],
      async (requestOptions) => {
        const response = await oauth.refreshTokenGrantRequest(as, oauthClient, auth, args.refreshToken, {
          ...requestOptions,
          additionalParameters: parameters,
        });
        return oauth.processRefreshTokenResponse(as, oauthClient, response);
      },
    );
  }

  async clientCredentials(
    provider: ResolvedProvider,
    client: ClientCredentials,
    options: ProtocolCallOptions = {},
  ): Promise<TokenSet> {
    const { as, oauthClient, auth } = this.parties(provider, client);
    const parameters = new URLSearchParams(provider.extraTokenParams);
    if (provider.sendScopeOnTokenRequest && provider.scopes.length > 0)
      parameters.set('scope', provider.scopes.join(' '));
    return this.call(
      provider,
      options,
      'the client credentials',
      [client.clientSecret],
      async (requestOptions) => {
        const response = await oauth.clientCredentialsGrantRequest(
          as,
          oauthClient,
          auth,
          parameters,
          requestOptions,
        );
        return oauth.processClientCredentialsResponse(as, oauthClient, response);
      },
    );
  }

  private parties(provider: ResolvedProvider, client: ClientCredentials) {
    const as: oauth.AuthorizationServer = {
      issuer: new URL(provider.tokenUrl).origin,
      token_endpoint: provider.tokenUrl,
      authorization_endpoint: provider.authorizationUrl,
    };
    const oauthClient: oauth.Client = { client_id: client.clientId };
    const auth =
      provider.tokenAuthMethod === 'client_secret_post'
        ? oauth.ClientSecretPost(client.clientSecret)
        : oauth.ClientSecretBasic(client.clientSecret);
    return { as, oauthClient, auth };
  }

  /** Runs one token request with a timeout over headers and body, and turns any failure into a ProviderError. */
  private async call(
    provider: ResolvedProvider,
    options: ProtocolCallOptions,
    what: string,
    /** Values an error message must never repeat, even when the provider echoes them. */
    secrets: string[],
    run: (requestOptions: oauth.TokenEndpointRequestOptions) => Promise<oauth.TokenEndpointResponse>,
  ): Promise<TokenSet> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const exchange: Exchange = {};
    const requestOptions: oauth.TokenEndpointRequestOptions = {
      signal,
      [oauth.allowInsecureRequests]: isLoopbackUrl(provider.tokenUrl),
      [oauth.customFetch]: async (url, init) => {
        const response = await fetch(url, init as RequestInit);
        exchange.status = response.status;
        exchange.contentType = response.headers.get('content-type') ?? undefined;
        exchange.retryAfter = response.headers.get('retry-after');
        return response;
      },
    };
    let body: oauth.TokenEndpointResponse;
    try {
      body = await run(requestOptions);
    } catch (error) {
      throw classify(error, { provider, what, timeoutMs, exchange, timedOut: timeout.aborted, secrets });
    }
    return toTokenSet(body, options.defaultExpiresInSeconds ?? DEFAULT_EXPIRES_IN);
  }
}

function toTokenSet(body: oauth.TokenEndpointResponse, defaultExpiresIn: number): TokenSet {
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new InvalidProviderResponseError('token endpoint answered without an access_token');
  }
  if (body.token_type !== 'bearer') {
    throw new InvalidProviderResponseError(
      `token endpoint answered token_type "${String(body.token_type).slice(0, 20)}", not Bearer`,
    );
  }
  const expiresIn = body.expires_in;
  if (
    expiresIn !== undefined &&
    (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn <= 0)
  ) {
    throw new InvalidProviderResponseError(
      'token endpoint answered an expires_in that is not a positive number',
    );
  }
  const refreshExpiresIn = body.refresh_token_expires_in;
  return {
    accessToken: body.access_token,
    tokenType: 'Bearer',
    expiresIn: expiresIn ?? defaultExpiresIn,
    expiresInDefaulted: expiresIn === undefined,
    scope: typeof body.scope === 'string' ? body.scope : undefined,
    refreshToken:
      typeof body.refresh_token === 'string' && body.refresh_token !== '' ? body.refresh_token : undefined,
    refreshTokenExpiresIn:
      typeof refreshExpiresIn === 'number' && refreshExpiresIn > 0 ? refreshExpiresIn : undefined,
  };
}

const NEEDS_REAUTHORIZATION = new Set(['invalid_grant']);
const MISCONFIGURED = new Set([
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'access_denied',
  'invalid_request',
  'unsupported_grant_type',
  'invalid_target',
]);

interface FailureContext {
  provider: ResolvedProvider;
  what: string;
  timeoutMs: number;
  exchange: Exchange;
  timedOut: boolean;
  secrets?: string[];
}

/** Maps whatever a token call threw to one of the ProviderError classes. */
export function classify(error: unknown, context: FailureContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const { exchange, provider } = context;
  const name = PROVIDER_NAMES[provider.kind];
  const status = exchange.status;
  const retryAfterMs = parseRetryAfter(exchange.retryAfter);

  if (context.timedOut || isAbort(error)) {
    return new TransientProviderError(
      `token endpoint did not answer within ${formatSeconds(context.timeoutMs)}`,
    );
  }
  if (error instanceof oauth.ResponseBodyError) {
    const upstream = error.error;
    const description = safeDescription(redact(error.error_description, context.secrets));
    const detail = `${upstream}${description ? `: ${description}` : ''}`;
    if (status === 429 || error.status === 429) {
      return new TransientProviderError(`${name} is rate limiting token requests (${detail})`, {
        upstreamError: upstream,
        httpStatus: 429,
        retryAfterMs,
      });
    }
    if (error.status >= 500 || upstream === 'temporarily_unavailable' || upstream === 'server_error') {
      return new TransientProviderError(
        `${name} failed to answer the token request (HTTP ${error.status}, ${detail})`,
        {
          upstreamError: upstream,
          httpStatus: error.status,
          retryAfterMs,
        },
      );
    }
    if (NEEDS_REAUTHORIZATION.has(upstream)) {
      return new NeedsReauthorizationError(
        `${name} refused ${context.what} (${detail}): the account must authorize again`,
        { upstreamError: upstream, httpStatus: error.status },
      );
    }
    const Kind =
      MISCONFIGURED.has(upstream) || error.status < 500 ? ProviderMisconfiguredError : TransientProviderError;
    return new Kind(
      `${name} refused the client (${detail}); check the integration's client id, secret, scopes and audience`,
      {
        upstreamError: upstream,
        httpStatus: error.status,
      },
    );
  }
  if (error instanceof oauth.WWWAuthenticateChallengeError) {
    return new ProviderMisconfiguredError(
      `${name} refused the client credentials (HTTP ${error.status}); check the integration's client id and secret`,
      { upstreamError: 'invalid_client', httpStatus: error.status },
    );
  }
  if (status === undefined) {
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    return new TransientProviderError(`token endpoint could not be reached${cause ? ` (${cause})` : ''}`);
  }
  const html = (exchange.contentType ?? '').includes('html') ? ' with an HTML page' : '';
  if (status === 429 || status >= 500) {
    return new TransientProviderError(`token endpoint answered HTTP ${status}${html}`, {
      httpStatus: status,
      retryAfterMs,
    });
  }
  if (status >= 200 && status < 300) {
    // oauth4webapi names the property at fault, never its value.
    const reason =
      error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError
        ? safeDescription(error.message)
        : undefined;
    return new InvalidProviderResponseError(
      `token endpoint answered HTTP ${status} with a body that is not a valid token response${reason ? ` (${reason})` : ''}`,
      { httpStatus: status },
    );
  }
  return new ProviderMisconfiguredError(
    `token endpoint answered HTTP ${status}${html}; check the integration's token URL and credentials`,
    { httpStatus: status },
  );
}

/** Blanks out any secret a provider echoed back in its error_description. */
function redact(text: unknown, secrets: string[] = []): unknown {
  if (typeof text !== 'string') return text;
  return secrets.reduce(
    (result, secret) => (secret.length >= 4 ? result.split(secret).join('[redacted]') : result),
    text,
  );
}

function isAbort(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  return name === 'AbortError' || name === 'TimeoutError';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

const protocol = new OAuth4WebApiProtocol();

/** The protocol for a provider kind; the kinds differ only in their resolved settings. */
export function protocolFor(_kind: ProviderKind): OAuthProtocol {
  return protocol;
}
