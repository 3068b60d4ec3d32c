import * as oauth from 'oauth4webapi';
import { clientSecretBasic } from './client-auth';
import {
  authorizationScopes,
  isLoopbackUrl,
  isSecretFieldName,
  ProviderKind,
  ResolvedProvider,
} from './provider-config';
import {
  InvalidProviderResponseError,
  NeedsReauthorizationError,
  parseRetryAfter,
  ProviderError,
  ProviderMisconfiguredError,
  type RequestOutcome,
  RotatedAnswerUnusableError,
  safeDescription,
  TransientProviderError,
} from './provider-errors';
import { boundClaimedExpiresIn, boundTokenLifetimes, REFRESH_TOKEN_LIFETIME_BOUNDS } from './token-lifetimes';
import { guardProviderRequest, providerFetch } from './provider-hosts';

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
  /** A lifetime the provider claimed was out of bounds and was clamped (token-lifetimes.ts). */
  lifetimeWarning?: string;
  /** The answer's fields the provider keeps as metadata (`ResolvedProvider.metadata.tokenResponse`), when any. */
  metadata?: Record<string, unknown>;
}

export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
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
    args: { state: string; redirectUri: string; scopes?: string[]; codeChallenge?: string },
  ): string;
  /** A PKCE code verifier and its S256 challenge when the provider uses PKCE, else undefined. */
  newPkce(provider: ResolvedProvider): Promise<PkcePair | undefined>;
  exchangeCode(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { code: string; redirectUri: string; codeVerifier?: string },
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
const providerName = (provider: ResolvedProvider) =>
  provider.kind === 'bloomerang'
    ? 'Bloomerang'
    : provider.kind === 'bloom'
      ? 'Bloom'
      : (provider.name ?? 'the provider');

/** What the wire showed of the last answer, for classifying a failure oauth4webapi reports. */
export interface TokenEndpointExchange {
  status?: number;
  contentType?: string;
  retryAfter?: string | null;
  /** An unread copy of a 4xx answer, for the OAuth error oauth4webapi does not parse (see `readOAuthError`). */
  errorResponse?: Response;
  /** The OAuth error of a 4xx answer that oauth4webapi did not report as a ResponseBodyError. */
  oauthError?: OAuthErrorBody;
  /** The request was handed to fetch: from here on, a failure without an answer may have reached the provider. */
  sent?: boolean;
  /**
   * The refresh token a 200 answer carried, read before anything else in the answer is judged: the
   * provider has rotated, and the token it gave must be kept even when the rest is unusable.
   */
  rotated?: { refreshToken: string; refreshTokenExpiresIn?: number };
  /** A claimed lifetime the answer's checks would have refused, and what was used instead. */
  lifetimeWarning?: string;
}

/** The error members of RFC 6749 section 5.2. */
interface OAuthErrorBody {
  error: string;
  error_description?: unknown;
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
    args: { state: string; redirectUri: string; scopes?: string[]; codeChallenge?: string },
  ): string {
    if (!provider.authorizationUrl) throw new Error('this provider has no authorization endpoint');
    const url = new URL(provider.authorizationUrl);
    const params = { ...provider.authorizationParams, ...provider.refreshEarning?.authorizationParams };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', client.clientId);
    url.searchParams.set('redirect_uri', args.redirectUri);
    url.searchParams.set('state', args.state);
    // What earns the refresh token is asked whatever scopes the integration or connection names.
    const scopes = authorizationScopes(provider, args.scopes);
    if (scopes.length > 0) url.searchParams.set('scope', scopes.join(provider.scopeSeparator ?? ' '));
    if (provider.pkce === 'S256') {
      if (!args.codeChallenge) throw new Error('this provider uses PKCE: a code challenge is required');
      url.searchParams.set('code_challenge', args.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
    }
    return url.toString();
  }

  async newPkce(provider: ResolvedProvider): Promise<PkcePair | undefined> {
    if (provider.pkce !== 'S256') return undefined;
    const codeVerifier = oauth.generateRandomCodeVerifier();
    return { codeVerifier, codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier) };
  }

  async exchangeCode(
    provider: ResolvedProvider,
    client: ClientCredentials,
    args: { code: string; redirectUri: string; codeVerifier?: string },
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
          args.codeVerifier ?? oauth.nopkce,
          {
            ...requestOptions,
            additionalParameters: { ...provider.extraTokenParams, ...provider.codeExchangeParams },
          },
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
    const parameters = new URLSearchParams({ ...provider.extraTokenParams, ...provider.refreshParams });
    // Scope only when narrowing was asked: omitted, the provider keeps the granted scope.
    if (args.scopes?.length) parameters.set('scope', args.scopes.join(provider.scopeSeparator ?? ' '));
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
      parameters.set('scope', provider.scopes.join(provider.scopeSeparator ?? ' '));
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
        : clientSecretBasic(client.clientSecret, provider.basicAuthEncoding);
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
    // One signal for the whole call: fetch honours it while the body streams too, not only until headers.
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
    const exchange: TokenEndpointExchange = {};
    const requestOptions: oauth.TokenEndpointRequestOptions = {
      signal,
      [oauth.allowInsecureRequests]: isLoopbackUrl(provider.tokenUrl),
      [oauth.customFetch]: async (url, init) => {
        // Resolved once and checked before the request counts as sent, then pinned to that address.
        const checked = await guardProviderRequest(url);
        exchange.sent = true;
        const response = await normalizeTokenResponse(
          await providerFetch(url, init as RequestInit, checked),
          provider,
          exchange,
        );
        exchange.status = response.status;
        exchange.contentType = response.headers.get('content-type') ?? undefined;
        exchange.retryAfter = response.headers.get('retry-after');
        if (response.status >= 400 && response.status < 500) exchange.errorResponse = response.clone();
        return response;
      },
    };
    let tokens: TokenSet;
    try {
      const body = await run(requestOptions);
      tokens = boundTokenLifetimes(
        toTokenSet(
          body,
          provider.defaultExpiresInSeconds ?? options.defaultExpiresInSeconds ?? DEFAULT_EXPIRES_IN,
          provider.metadata?.tokenResponse ?? [],
        ),
      );
    } catch (error) {
      if (!(error instanceof oauth.ResponseBodyError)) {
        exchange.oauthError = await readOAuthError(exchange.errorResponse);
      }
      const failure = classifyProviderFailure(error, {
        provider,
        what,
        timeoutMs,
        exchange,
        timedOut: timeout.aborted,
        cancelled: options.signal?.aborted === true && !timeout.aborted,
        secrets,
      });
      // The provider rotated and the answer is unusable otherwise: the failure carries the new
      // refresh token, for the caller to keep before it judges anything else.
      if (exchange.rotated && exchange.status === 200)
        throw new RotatedAnswerUnusableError(failure.message, exchange.rotated, {
          httpStatus: 200,
          outcome: 'unknown',
        });
      throw failure;
    }
    if (!exchange.lifetimeWarning) return tokens;
    const lifetimeWarning = [exchange.lifetimeWarning, tokens.lifetimeWarning].filter(Boolean).join('; ');
    return { ...tokens, lifetimeWarning };
  }
}

function toTokenSet(
  body: oauth.TokenEndpointResponse,
  defaultExpiresIn: number,
  metadataFields: string[],
): TokenSet {
  if (typeof body.access_token !== 'string' || body.access_token === '') {
    throw new InvalidProviderResponseError('token endpoint answered without an access_token', {
      outcome: 'unknown',
    });
  }
  if (body.token_type !== 'bearer') {
    throw new InvalidProviderResponseError(
      `token endpoint answered token_type "${safeDescription(String(body.token_type).slice(0, 20))}", not Bearer`,
      { outcome: 'unknown' },
    );
  }
  const expiresIn = body.expires_in;
  // Claims of 0 or below, or past any number, were bounded before oauth4webapi read the answer.
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn))) {
    throw new InvalidProviderResponseError('token endpoint answered an expires_in that is not a number', {
      outcome: 'unknown',
    });
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
    ...(metadataFields.length > 0 ? { metadata: pickMetadata(body, metadataFields) } : {}),
  };
}

/**
 * The kept fields the answer has, values as the provider sent them (a string, a number, an
 * object), but without any secret nested in them: Slack's `authed_user`, for one, may carry the
 * user's own access and refresh tokens.
 */
function pickMetadata(body: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  // The answer's own tokens: a kept value that carries one (under any name) is not kept.
  const ownTokens = ['access_token', 'refresh_token', 'id_token']
    .map((name) => body[name])
    .filter((token): token is string => typeof token === 'string' && token.length >= 8);
  for (const field of fields) {
    if (!Object.hasOwn(body, field) || body[field] === undefined || body[field] === null) continue;
    const value = withoutSecrets(body[field]);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (ownTokens.some((token) => text.includes(token))) continue;
    metadata[field] = value;
  }
  return metadata;
}

function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return undefined;
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, depth + 1));
  if (!isJsonObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([name]) => !isSecretFieldName(name))
      .map(([name, inner]) => [name, withoutSecrets(inner, depth + 1)]),
  );
}

/**
 * Brings a provider's answer to the shape of RFC 6749 before oauth4webapi reads it, as the
 * provider's entry describes:
 * - an error sent as HTTP 200 (Slack's `{ ok: false, error }`, GitHub's and Zoho's `{ error }`) or
 *   as an object (`{ error: { code, message } }`) becomes a 400 (or its own 4xx/5xx) with a
 *   string `error`, mapped through the entry's `errorCodes` to its RFC 6749 kin;
 * - `token_type` the provider uses for a bearer token (Slack's `bot`), or none at all (Shopify),
 *   becomes `bearer`; a numeric-string expires_in a number; a non-standard refresh token lifetime
 *   field (QuickBooks) `refresh_token_expires_in`;
 * - an unused OpenID Connect id_token is dropped (see `withoutIdToken`).
 */
async function normalizeTokenResponse(
  response: Response,
  provider: ResolvedProvider,
  exchange: TokenEndpointExchange,
): Promise<Response> {
  const contentType = response.headers.get('content-type') ?? '';
  if (response.status !== 200 && !(response.status >= 400 && contentType.includes('json'))) return response;
  let body: unknown;
  try {
    body = JSON.parse(await response.clone().text());
  } catch {
    return response; // not JSON: oauth4webapi (or the status) reports that itself
  }
  if (!isJsonObject(body)) return response;
  const failed =
    body.ok === false || (body.error !== undefined && body.error !== null && body.access_token === undefined);
  if (failed) {
    const error = errorOf(body, provider);
    if (!error) return response;
    // A standard error answer stays as it is (its headers decide how oauth4webapi reads it).
    if (response.status >= 300 && typeof body.error === 'string' && error.error === body.error)
      return response;
    const headers = new Headers(response.headers);
    headers.set('content-type', 'application/json');
    headers.delete('content-length');
    headers.delete('content-encoding');
    return new Response(JSON.stringify(error), {
      status: response.status >= 300 ? response.status : 400,
      statusText: response.status >= 300 ? response.statusText : 'Bad Request',
      headers,
    });
  }
  if (response.status !== 200) return response;
  const fixed: Record<string, unknown> = { ...body };
  let changed = false;
  if (typeof fixed.refresh_token === 'string' && fixed.refresh_token !== '') {
    const claimed = Number(
      fixed.refresh_token_expires_in ?? fixed[provider.refreshTokenExpiresInField ?? ''],
    );
    exchange.rotated = {
      refreshToken: fixed.refresh_token,
      refreshTokenExpiresIn:
        Number.isFinite(claimed) && claimed > 0
          ? Math.min(claimed, REFRESH_TOKEN_LIFETIME_BOUNDS.maxSeconds)
          : undefined,
    };
  }
  const bounded = boundClaimedExpiresIn(fixed.expires_in);
  if (bounded) {
    fixed.expires_in = bounded.seconds;
    exchange.lifetimeWarning = bounded.warning;
    changed = true;
  }
  if ('id_token' in fixed) {
    delete fixed.id_token;
    changed = true;
  }
  const tokenType = typeof fixed.token_type === 'string' ? fixed.token_type.toLowerCase() : undefined;
  if (
    (tokenType === undefined && fixed.token_type === undefined && provider.tokenTypeOptional) ||
    (tokenType !== undefined && provider.bearerTokenTypes?.includes(tokenType))
  ) {
    fixed.token_type = 'bearer';
    changed = true;
  }
  const field = provider.refreshTokenExpiresInField;
  if (field && fixed.refresh_token_expires_in === undefined && fixed[field] !== undefined) {
    fixed.refresh_token_expires_in = Number(fixed[field]);
    changed = true;
  }
  if (typeof fixed.refresh_token_expires_in === 'string' && /^\d+$/.test(fixed.refresh_token_expires_in)) {
    fixed.refresh_token_expires_in = Number(fixed.refresh_token_expires_in);
    changed = true;
  }
  if (!changed) return response;
  return new Response(JSON.stringify(fixed), {
    status: response.status,
    statusText: response.statusText,
    headers: { 'content-type': 'application/json' },
  });
}

/** The RFC 6749 error of a provider's error answer, whatever its shape; undefined when it has none. */
function errorOf(body: Record<string, unknown>, provider: ResolvedProvider): OAuthErrorBody | undefined {
  let code: unknown = body.error;
  let description: unknown = body.error_description;
  if (isJsonObject(code)) {
    const inner = code;
    code = inner.code ?? inner['.tag'] ?? inner.type ?? inner.error ?? inner.name;
    description ??= inner.message ?? inner.description ?? inner.error_description;
  }
  if (typeof code === 'number') code = String(code);
  if (typeof code !== 'string' || code === '') {
    if (body.ok !== false) return undefined;
    code = 'unknown_error';
  }
  const upstream = code as string;
  const mapped =
    provider.errorCodes && Object.hasOwn(provider.errorCodes, upstream)
      ? provider.errorCodes[upstream]
      : upstream;
  const text = typeof description === 'string' ? description : undefined;
  return {
    error: mapped,
    error_description: mapped === upstream ? text : `${upstream}${text ? `: ${text}` : ''}`,
  };
}

/*
 * oauth4webapi checks an OpenID Connect id_token against the issuer, which the broker does not
 * know (it is configured with endpoints, not an issuer), and then refuses the whole answer: an
 * OIDC provider asked for `openid` would never yield a token. The broker hands out access tokens
 * only, so `normalizeTokenResponse` drops the unused id_token before oauth4webapi reads the answer.
 */

/**
 * oauth4webapi reports a 4xx's OAuth error only when the answer is labelled application/json and
 * carries no WWW-Authenticate header. Servers that add `WWW-Authenticate: Basic` to every 400, or
 * label their JSON text/plain, would otherwise turn an expired refresh token (invalid_grant) into a
 * bare "HTTP 400"; so the error is read here from an unread copy of the answer.
 */
async function readOAuthError(response: Response | undefined): Promise<OAuthErrorBody | undefined> {
  if (!response) return undefined;
  try {
    const body: unknown = JSON.parse(await response.text());
    if (isJsonObject(body) && typeof body.error === 'string' && body.error !== '') {
      return { error: body.error, error_description: body.error_description };
    }
  } catch {
    // Not JSON (or the body never came): the status decides.
  }
  return undefined;
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NEEDS_REAUTHORIZATION = new Set(['invalid_grant']);
/** What else, besides the id and secret, makes a provider refuse a client. */
const CREDENTIAL_SETTINGS: Record<string, string> = {
  bloomerang: 'token URL',
  bloom: 'environment', // a sandbox client is unknown in production and the reverse
  oauth2: 'tokenAuthMethod and basicAuthEncoding',
};
const credentialsHint = (provider: ResolvedProvider) =>
  `check the integration's client id, secret and ${CREDENTIAL_SETTINGS[provider.kind] ?? 'token URL'}`;

/** What the admin should fix, by OAuth error code; `detail` is the upstream error and its description. */
const MISCONFIGURATION_HINTS: Record<string, (detail: string, provider: ResolvedProvider) => string> = {
  invalid_client: (detail, provider) =>
    `refused the client credentials (${detail}); ${credentialsHint(provider)}`,
  unauthorized_client: (detail) =>
    `refused the client (${detail}); the provider does not allow this client the grant`,
  invalid_scope: (detail) => `refused the scope (${detail}); check the integration's scopes`,
  access_denied: (detail) => `refused the client (${detail}); check the integration's audience and scopes`,
};
const defaultHint = (detail: string) =>
  `refused the client (${detail}); check the integration's client id, secret, scopes and audience`;

/**
 * Network failures that happen before a request can have reached the provider: nothing was
 * connected (refused, unreachable, no such host, the connect attempt timed out).
 */
const NEVER_SENT_CAUSES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** OAuth error codes that say "not now" rather than "not this client". */
const TRANSIENT_ERRORS = new Set(['temporarily_unavailable', 'server_error', 'slow_down']);
/** HTTP statuses that say "try again later" whatever the body. */
const TRANSIENT_STATUSES = new Set([408, 425, 429]);

export interface ProviderFailureContext {
  provider: ResolvedProvider;
  /** What was presented, for the message: "the refresh token", "the authorization code", ... */
  what: string;
  timeoutMs: number;
  exchange: TokenEndpointExchange;
  /** The call's own timeout fired. */
  timedOut: boolean;
  /** The caller's signal aborted the call. */
  cancelled?: boolean;
  /** Values an error message must never repeat, even when the provider echoes them. */
  secrets?: string[];
}

/**
 * Maps whatever a token call threw to one of the ProviderError classes. The original error is not
 * kept as `cause`: oauth4webapi's errors carry the response and its body, tokens included.
 */
export function classifyProviderFailure(error: unknown, context: ProviderFailureContext): ProviderError {
  if (error instanceof ProviderError) return error;
  const { exchange, provider } = context;
  // Past this point the request may have reached the provider unless fetch was never called.
  const unanswered: RequestOutcome = exchange.sent ? 'unknown' : 'not_sent';
  const name = providerName(provider);
  const retryAfterMs = parseRetryAfter(exchange.retryAfter);

  if (context.cancelled)
    return new TransientProviderError('the token request was cancelled by the broker', {
      outcome: unanswered,
    });
  if (context.timedOut || isAbort(error)) {
    return new TransientProviderError(
      `token endpoint did not answer within ${formatSeconds(context.timeoutMs)}`,
      { outcome: unanswered },
    );
  }

  const challenge = error instanceof oauth.WWWAuthenticateChallengeError ? error : undefined;
  const oauthError: OAuthErrorBody | undefined =
    error instanceof oauth.ResponseBodyError
      ? { error: error.error, error_description: error.error_description }
      : (exchange.oauthError ?? challengeError(challenge));
  const status =
    error instanceof oauth.ResponseBodyError ? error.status : (challenge?.status ?? exchange.status);

  if (oauthError && status !== undefined) {
    const upstream = oauthError.error;
    const description = safeDescription(redact(oauthError.error_description, context.secrets));
    const detail = `${upstream}${description ? `: ${description}` : ''}`;
    if (status === 429) {
      return new TransientProviderError(`${name} is rate limiting token requests (${detail})`, {
        upstreamError: upstream,
        httpStatus: status,
        retryAfterMs,
        outcome: 'refused',
      });
    }
    if (status >= 500 || TRANSIENT_STATUSES.has(status) || TRANSIENT_ERRORS.has(upstream)) {
      return new TransientProviderError(
        `${name} could not answer the token request now (HTTP ${status}, ${detail})`,
        // A 5xx may come after the grant was processed (a failure while answering).
        {
          upstreamError: upstream,
          httpStatus: status,
          retryAfterMs,
          outcome: status >= 500 ? 'unknown' : 'refused',
        },
      );
    }
    if (NEEDS_REAUTHORIZATION.has(upstream)) {
      return new NeedsReauthorizationError(
        `${name} refused ${context.what} (${detail}): the account must authorize again`,
        { upstreamError: upstream, httpStatus: status, outcome: 'refused' },
      );
    }
    // invalid_client, unauthorized_client, invalid_scope, access_denied (e.g. an audience Bloom
    // does not know), invalid_request, unsupported_grant_type, and codes no RFC defines.
    const hint = Object.hasOwn(MISCONFIGURATION_HINTS, upstream)
      ? MISCONFIGURATION_HINTS[upstream]
      : defaultHint;
    return new ProviderMisconfiguredError(`${name} ${hint(detail, provider)}`, {
      upstreamError: upstream,
      httpStatus: status,
      outcome: status >= 500 ? 'unknown' : 'refused',
    });
  }
  if (challenge && challenge.status === 401) {
    return new ProviderMisconfiguredError(
      `${name} refused the client credentials (HTTP 401); ${credentialsHint(provider)}`,
      { upstreamError: 'invalid_client', httpStatus: 401, outcome: 'refused' },
    );
  }
  if (status === undefined) {
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    return new TransientProviderError(`token endpoint could not be reached${cause ? ` (${cause})` : ''}`, {
      outcome: cause && NEVER_SENT_CAUSES.has(cause) ? 'not_sent' : unanswered,
    });
  }
  const html = (exchange.contentType ?? '').includes('html') ? ' with an HTML page' : '';
  if (status >= 500 || TRANSIENT_STATUSES.has(status)) {
    return new TransientProviderError(`token endpoint answered HTTP ${status}${html}`, {
      httpStatus: status,
      retryAfterMs,
      outcome: status >= 500 ? 'unknown' : 'refused',
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
      { httpStatus: status, outcome: 'unknown' },
    );
  }
  // A 4xx without an OAuth error, e.g. an HTML 404 from a wrong token URL: retrying will not help.
  return new ProviderMisconfiguredError(
    `token endpoint answered HTTP ${status}${html}; check the integration's token URL and credentials`,
    { httpStatus: status, outcome: 'refused' },
  );
}

/** The OAuth error a WWW-Authenticate challenge may carry (RFC 6750 3 style) when the body has none. */
function challengeError(
  challenge: oauth.WWWAuthenticateChallengeError | undefined,
): OAuthErrorBody | undefined {
  const parameters = challenge?.cause.find((entry) => entry.parameters.error)?.parameters;
  return parameters?.error
    ? { error: parameters.error, error_description: parameters.error_description }
    : undefined;
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
