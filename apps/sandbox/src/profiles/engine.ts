/**
 * The profile engine: serves every provider profile of `catalogue/` under `/<id>/` (or `/<id>/<host>/` for
 * profiles with a per-connection host) with an authorization endpoint, a token endpoint and a protected
 * resource, enforcing what each profile's data says. Shares the sandbox's pieces: the consent page and
 * PKCE reading of authorize.ts, client credentials of protocol.ts, faults, latency and settings.
 */
import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { consentPage, errorPage, readPkce, withQuery } from '../authorize';
import { resolveRedirectUri } from '../clients';
import type { SandboxContext } from '../context';
import { deliverProcessed, hang, isProcessedFault, sendFault, takeFault } from '../faults';
import {
  bearerToken,
  invalidClient,
  invalidGrant,
  invalidRequest,
  invalidScope,
  OAuthError,
  readBasicCredentials,
  readParams,
  requireParam,
  secretsEqual,
  unsupportedGrantType,
  type Params,
} from '../protocol';
import type { PkceChallenge } from '../state';
import { NO_STORE, readFormBody, waitUnlessShutDown } from '../token-endpoint';
import type { ProviderProfile, ProfileTunables, Template } from './profile';
import type { ProfileGrant, ProfileRefreshToken, ProfileStore } from './profile-store';

export const DEFAULT_PROFILE_ACCOUNT = 'sandbox-account';
/** Refresh tokens without a documented lifetime are kept this long. */
const UNLIMITED_SECONDS = 10 * 365 * 86400;

/** The seeded client of a profile: `sandbox-<id>` / `sandbox-<id>-secret`. */
export function profileClient(profile: Pick<ProviderProfile, 'id'>) {
  return { clientId: `sandbox-${profile.id}`, clientSecret: `sandbox-${profile.id}-secret` } as const;
}

export interface ProfileContext extends SandboxContext {
  readonly profiles: ProfileStore;
}

/** Where a request landed: the profile and, for per-connection hosts, the host value from the path. */
interface Target {
  readonly profile: ProviderProfile;
  readonly host: string | undefined;
  readonly tunables: ProfileTunables;
  /** The sandbox's own origin, as the client reached it. */
  readonly origin: string;
}

export function registerProfiles(
  app: FastifyInstance,
  ctx: ProfileContext,
  profiles: readonly ProviderProfile[],
): void {
  for (const profile of profiles) {
    const base = profile.host ? `/${profile.id}/:host` : `/${profile.id}`;
    const target = (request: FastifyRequest): Target | string => {
      const host = profile.host ? (request.params as { host: string }).host : undefined;
      if (profile.host && !new RegExp(profile.host.pattern).test(host ?? '')) {
        return `No ${profile.name} ${profile.host.name} "${host}" here.`;
      }
      return {
        profile,
        host,
        tunables: ctx.settings.profiles[profile.id] ?? {},
        origin: `${request.protocol}://${request.host}`,
      };
    };
    app.get(`${base}/authorize`, (request, reply) => {
      const where = target(request);
      if (typeof where === 'string') return errorPage(reply, where);
      const fallback = ctx.settings.autoApprove ? 'approve' : undefined;
      return authorize(ctx, where, request.query, reply, fallback, `${request.url.split('?')[0]}/decision`);
    });
    app.post(`${base}/authorize/decision`, (request, reply) => {
      const where = target(request);
      if (typeof where === 'string') return errorPage(reply, where);
      return authorize(ctx, where, request.body, reply, undefined, undefined);
    });
    app.post(`${base}/token`, (request, reply) => tokenEndpoint(ctx, target(request), request, reply));
    app.get(`${base}/resource`, (request, reply) => resource(ctx, target(request), request, reply));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Authorization endpoint

function authorize(
  ctx: ProfileContext,
  target: Target,
  source: unknown,
  reply: FastifyReply,
  fallback: 'approve' | undefined,
  formAction: string | undefined,
): FastifyReply {
  const { profile } = target;
  let params: Params;
  try {
    params = readParams(source);
  } catch (error) {
    return errorPage(
      reply,
      error instanceof OAuthError ? error.description : 'The request could not be read.',
    );
  }
  const seeded = profileClient(profile);
  if (params.client_id !== seeded.clientId) return errorPage(reply, 'Unknown client_id.');
  const redirect = resolveRedirectUri({}, params.redirect_uri);
  if (!redirect.ok) return errorPage(reply, redirect.reason);
  const decision = params.sandbox_decision ?? fallback;
  if (decision !== undefined && decision !== 'approve' && decision !== 'deny') {
    return errorPage(reply, 'sandbox_decision must be "approve" or "deny".');
  }
  const back = (outcome: Record<string, string>) =>
    reply.redirect(
      withQuery(redirect.redirectUri, { ...outcome, ...(params.state ? { state: params.state } : {}) }),
    );
  const fail = (error: string, description: string) => back({ error, error_description: description });

  if (params.response_type !== 'code') {
    return params.response_type === undefined
      ? fail('invalid_request', 'response_type is required.')
      : fail('unsupported_response_type', 'response_type must be "code".');
  }
  for (const [name, value] of Object.entries(profile.requiredAuthorizationParams ?? {})) {
    if (params[name] !== value) return fail('invalid_request', `${name}=${value} is required.`);
  }
  const scope = parseScope(profile, params.scope);
  if (typeof scope === 'string') return fail('invalid_scope', scope);
  if (profile.scopes.required && scope.length === 0) return fail('invalid_scope', 'scope is required.');
  const pkce = readProfilePkce(profile, params);
  if (typeof pkce === 'string') return fail('invalid_request', pkce);

  if (decision === undefined) {
    return formAction === undefined
      ? errorPage(reply, 'Choose Approve or Deny.')
      : consentPage(
          reply,
          { displayName: profile.name },
          seeded.clientId,
          scope.join(profile.scopes.separator),
          params,
          formAction,
        );
  }
  if (decision === 'deny') return fail('access_denied', 'The user denied the request.');
  const account = params.sandbox_account ?? DEFAULT_PROFILE_ACCOUNT;
  const code = ctx.profiles.saveCode({
    profileId: profile.id,
    clientId: seeded.clientId,
    account,
    host: target.host,
    scope,
    redirectUri: redirect.redirectUri,
    redirectUriGiven: redirect.given,
    pkce,
    refreshTokenAuthorized: refreshTokenAuthorized(ctx, target, params, scope, account),
    expiresAt: Date.now() + ctx.settings.codeTtlSeconds * 1000,
  });
  const extras = Object.fromEntries(
    Object.entries(profile.callbackExtras ?? {}).map(([name, value]) => [
      name,
      String(fill(value, target, account)),
    ]),
  );
  const outcome: Record<string, string> = { code, ...extras };
  if (profile.signsCallback) {
    const query = { ...outcome, ...(params.state ? { state: params.state } : {}) };
    outcome.hmac = shopifyHmac(query, seeded.clientSecret);
  }
  return back(outcome);
}

/** Shopify: HMAC-SHA256 (hex) of the other query parameters sorted by name, joined as `k=v&k=v`. */
export function shopifyHmac(query: Record<string, string>, secret: string): string {
  const message = Object.keys(query)
    .filter((name) => name !== 'hmac')
    .sort()
    .map((name) => `${name}=${query[name]}`)
    .join('&');
  return createHmac('sha256', secret).update(message).digest('hex');
}

function parseScope(profile: ProviderProfile, scope: string | undefined): string[] | string {
  const { separator, known } = profile.scopes;
  if (scope === undefined) return [];
  if (separator === ',' && /\s/.test(scope)) {
    return `${profile.name} scopes are separated by commas, not spaces.`;
  }
  const list = [...new Set(scope.split(separator).filter(Boolean))];
  // GitHub Apps ignore the scope parameter altogether.
  if (known !== undefined && known.length === 0) return [];
  const unknown = known === undefined ? [] : list.filter((item) => !known.includes(item));
  return unknown.length > 0 ? `Unknown scope: ${unknown.join(', ')}.` : list;
}

function readProfilePkce(profile: ProviderProfile, params: Params): PkceChallenge | string | undefined {
  if (profile.pkce === 'none') return undefined; // the parameters are ignored, as by a provider without PKCE
  if (profile.pkce === 'required') {
    if (params.code_challenge === undefined) return 'code_challenge is required (PKCE with S256).';
    if (params.code_challenge_method !== 'S256') return 'code_challenge_method must be S256.';
  }
  return readPkce(params);
}

function refreshTokenAuthorized(
  ctx: ProfileContext,
  target: Target,
  params: Params,
  scope: readonly string[],
  account: string,
): boolean {
  const issuance = target.profile.refreshTokenIssuance;
  if (issuance === undefined) return true;
  const matches = (wanted: Readonly<Record<string, string>> | undefined) =>
    Object.entries(wanted ?? {}).every(([name, value]) => params[name] === value);
  if (!matches(issuance.authorizationParams)) return false;
  if (issuance.scope !== undefined && !scope.includes(issuance.scope)) return false;
  if (issuance.anyScope !== undefined && !issuance.anyScope.some((wanted) => scope.includes(wanted)))
    return false;
  if (issuance.againParams && ctx.profiles.hadOfflineAccess(offlineKey(target, account))) {
    return matches(issuance.againParams);
  }
  return true;
}

const offlineKey = (target: Target, account: string) =>
  `${target.profile.id}\u0000${target.host ?? ''}\u0000${account}`;

// ---------------------------------------------------------------------------------------------------------
// Token endpoint

type Answer = Record<string, unknown>;

async function tokenEndpoint(
  ctx: ProfileContext,
  where: Target | string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | void> {
  if (typeof where === 'string') {
    return reply.status(404).headers(NO_STORE).send({ error: 'not_found', error_description: where });
  }
  const { profile } = where;
  const grantType = (request.body as { grant_type?: unknown } | undefined)?.grant_type;
  ctx.profiles.countTokenRequest(profile.id, grantType);
  const account = ctx.profiles.accountOf(profile.id, request.body);
  const release = ctx.profiles.trackTokenRequest(profile.id);
  const pass = (stage: 'beforeProcessing' | 'afterProcessing') =>
    ctx.holds.pass(stage, profile.id, account, request, reply, ctx.shutdown);
  try {
    if (!(await waitUnlessShutDown(ctx.settings.tokenLatencyMs, ctx.shutdown))) {
      reply.hijack();
      return;
    }
    if (!(await pass('beforeProcessing'))) return;
    const fault = takeFault(ctx, profile.id, account);
    if (fault === 'hang') return await hang(reply, ctx.shutdown);
    if (fault !== 'none' && !isProcessedFault(fault)) return sendFault(fault, reply);
    const granted = grant(ctx, where, request);
    if (!(await pass('afterProcessing'))) return;
    return await deliverProcessed(
      fault,
      request,
      reply,
      granted,
      (answer) =>
        sendAnswer(
          reply,
          request,
          profile,
          200,
          profile.answerShape === 'slack' ? { ok: true, ...answer } : answer,
        ),
      ctx,
    );
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error;
    if (error.error === 'invalid_client') ctx.profiles.count(profile.id, 'invalidClient');
    const [status, body] = errorAnswer(profile, error, grantType);
    return sendAnswer(
      reply.headers(status === error.status ? error.headers : {}),
      request,
      profile,
      status,
      body,
    );
  } finally {
    release();
  }
}

function sendAnswer(
  reply: FastifyReply,
  request: FastifyRequest,
  profile: ProviderProfile,
  status: number,
  body: Answer,
): FastifyReply {
  reply.status(status).headers(NO_STORE);
  // GitHub answers form-encoded unless the client asks for JSON.
  if (profile.answerShape === 'github' && !/application\/json/i.test(request.headers.accept ?? '')) {
    const form = new URLSearchParams(
      Object.entries(body).map(([name, value]) => [name, String(value)] as [string, string]),
    );
    return reply.type('application/x-www-form-urlencoded; charset=utf-8').send(form.toString());
  }
  return reply.send(body);
}

/** The provider's error shape for an OAuth error: [HTTP status, body]. */
function errorAnswer(profile: ProviderProfile, error: OAuthError, grantType: unknown): [number, Answer] {
  const refreshing = grantType === 'refresh_token';
  switch (profile.answerShape) {
    case 'oauth':
      return [error.status, { error: error.error, error_description: error.description }];
    case 'slack': {
      const codes: Record<string, string> = {
        invalid_client: 'bad_client_secret',
        invalid_grant: refreshing ? 'invalid_refresh_token' : 'invalid_code',
        unsupported_grant_type: 'invalid_grant_type',
        invalid_request: 'invalid_arguments',
      };
      return [200, { ok: false, error: codes[error.error] ?? error.error }];
    }
    case 'github': {
      const codes: Record<string, string> = {
        invalid_client: 'incorrect_client_credentials',
        invalid_grant: refreshing ? 'bad_refresh_token' : 'bad_verification_code',
      };
      return [
        200,
        {
          error: codes[error.error] ?? error.error,
          error_description: error.description,
          error_uri:
            'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors',
        },
      ];
    }
    case 'zoho':
      return [200, { error: error.error === 'invalid_grant' ? 'invalid_code' : error.error }];
  }
}

function grant(ctx: ProfileContext, target: Target, request: FastifyRequest): Answer {
  const params = readFormBody(request);
  const client = authenticate(target.profile, request, params);
  const grantType = requireParam(params, 'grant_type');
  if (grantType === 'authorization_code' && target.profile.grantTypes.includes('authorization_code')) {
    return exchangeCode(ctx, target, client, params);
  }
  if (grantType === 'refresh_token' && target.profile.grantTypes.includes('authorization_code')) {
    return refresh(ctx, target, client, params);
  }
  if (grantType === 'client_credentials' && target.profile.grantTypes.includes('client_credentials')) {
    const scope = parseScope(target.profile, params.scope);
    if (typeof scope === 'string') throw invalidScope(scope);
    return issue(ctx, target, { clientId: client, scope, account: undefined, grant: undefined }, undefined);
  }
  throw unsupportedGrantType(grantType);
}

/** Authenticates the seeded client with exactly the methods the profile documents; returns its id. */
function authenticate(profile: ProviderProfile, request: FastifyRequest, params: Params): string {
  const allowsBasic = profile.clientAuthentication !== 'post';
  const allowsPost = profile.clientAuthentication !== 'basic';
  const realm = allowsBasic ? profile.id : undefined;
  const basic = readBasicCredentials(request.headers.authorization, 'form-encoded', realm);
  if (basic && !allowsBasic) {
    throw invalidClient(
      `${profile.name} takes client_id and client_secret in the form body, not HTTP Basic.`,
    );
  }
  if (params.client_secret !== undefined && !allowsPost) {
    throw invalidClient(
      `${profile.name} takes the client credentials as HTTP Basic, not in the form body.`,
      realm,
    );
  }
  if (basic && params.client_secret !== undefined) {
    throw invalidRequest('Use only one client authentication method (RFC 6749 section 2.3).');
  }
  const credentials =
    basic ??
    (params.client_secret === undefined
      ? undefined
      : { clientId: params.client_id ?? '', clientSecret: params.client_secret });
  if (credentials === undefined) throw invalidClient('Client authentication is required.', realm);
  const seeded = profileClient(profile);
  if (
    !secretsEqual(credentials.clientId, seeded.clientId) ||
    !secretsEqual(credentials.clientSecret, seeded.clientSecret)
  ) {
    throw invalidClient('Unknown client or wrong client secret.', realm);
  }
  if (basic && params.client_id !== undefined && params.client_id !== basic.clientId) {
    throw invalidClient('client_id in the body differs from the authenticated client.', realm);
  }
  return seeded.clientId;
}

function exchangeCode(ctx: ProfileContext, target: Target, clientId: string, params: Params): Answer {
  const { profile } = target;
  const code = ctx.profiles.findCode(profile.id, requireParam(params, 'code'));
  if (code === undefined || code.host !== target.host) {
    throw invalidGrant('The authorization code is unknown or has expired.');
  }
  if (code.used) {
    ctx.profiles.count(profile.id, 'codeReuses');
    // RFC 6749 4.1.2: "If an authorization code is used more than once, the authorization server
    // MUST deny the request and SHOULD revoke (when possible) all tokens previously issued based on
    // that authorization code."
    if (code.grant) {
      ctx.profiles.revokeGrant(code.grant);
      ctx.profiles.count(profile.id, 'lineageRevocations');
    }
    throw invalidGrant('The authorization code was already used.');
  }
  if (code.clientId !== clientId) throw invalidGrant('The authorization code was issued to another client.');
  const redirectUri = params.redirect_uri;
  if ((code.redirectUriGiven || redirectUri !== undefined) && redirectUri !== code.redirectUri) {
    throw invalidGrant('redirect_uri does not match the one used in the authorization request.');
  }
  // A failed PKCE check burns the code: a guessed verifier gets no second try.
  code.used = true;
  if (code.pkce) verifyPkce(code.pkce, params.code_verifier);
  ctx.profiles.count(profile.id, 'codeExchanges');
  const exchangeParams = profile.refreshTokenIssuance?.exchangeParams;
  const exchangeMatches = Object.entries(exchangeParams ?? {}).every(
    ([name, value]) => params[name] === value,
  );
  const grant = ctx.profiles.createGrant({
    profileId: profile.id,
    clientId,
    account: code.account,
    host: code.host,
    scope: code.scope,
  });
  code.grant = grant;
  const withRefreshToken = code.refreshTokenAuthorized && exchangeMatches;
  if (withRefreshToken) {
    ctx.profiles.rememberOfflineAccess(offlineKey(target, code.account));
    const cap = profile.refreshToken.maxPerAccount;
    if (cap !== undefined && ctx.profiles.capRefreshTokenGrants(grant, cap)) {
      ctx.profiles.count(profile.id, 'refreshTokensCapped');
    }
  }
  // Shopify without expiring=1: a non-expiring offline token and no refresh token.
  const nonExpiring = exchangeParams !== undefined && !exchangeMatches;
  const fields = { clientId, scope: code.scope, account: code.account, grant };
  return issue(ctx, target, fields, withRefreshToken ? 'new' : undefined, nonExpiring);
}

/** RFC 7636 4.6. */
function verifyPkce(pkce: PkceChallenge, verifier: string | undefined): void {
  if (verifier === undefined) {
    throw invalidGrant('code_verifier is required: the authorization request carried a code_challenge.');
  }
  const derived =
    pkce.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  if (!secretsEqual(derived, pkce.challenge))
    throw invalidGrant('code_verifier does not match the code_challenge.');
}

function refresh(ctx: ProfileContext, target: Target, clientId: string, params: Params): Answer {
  const { profile, tunables } = target;
  const rules = profile.refreshToken;
  const value = requireParam(params, 'refresh_token');
  const token = ctx.profiles.findRefreshToken(profile.id, value);
  if (token === undefined || token.grant.host !== target.host || token.grant.revoked) {
    throw invalidGrant('The refresh token is unknown, expired or revoked.');
  }
  if (token.grant.clientId !== clientId)
    throw invalidGrant('The refresh token was issued to another client.');
  const now = Date.now();
  if (token.spentAt !== undefined) acceptReuse(ctx, target, token, now);

  const earliest = tunables.earliestRefreshSeconds ?? profile.earliestRefreshSeconds;
  if (earliest !== undefined && token.grant.newestAccessExpiresAt - now > earliest * 1000) {
    ctx.profiles.count(profile.id, 'earlyRefreshRefused');
    throw invalidRequest(
      `The access token is still valid; ${profile.name} allows a refresh only within its last ${earliest} seconds.`,
    );
  }
  const scope = params.scope === undefined ? token.scope : parseScope(profile, params.scope);
  if (typeof scope === 'string') throw invalidScope(scope);
  if (!scope.every((item) => token.grant.scope.includes(item))) {
    throw invalidScope('The requested scope is greater than the scope originally granted.');
  }
  if (rules.revokesEarlierAccessTokens) ctx.profiles.revokeAccessTokens(token.grant);
  if (rules.endsEarlierAccessTokensAfterGrace) {
    const graceSeconds = tunables.graceSeconds ?? rules.graceSeconds ?? 0;
    ctx.profiles.endAccessTokensBy(token.grant, now + graceSeconds * 1000);
  }
  ctx.profiles.count(profile.id, 'refreshGrants');
  const fields = { clientId, scope, account: token.grant.account, grant: token.grant };
  if (rules.rotation === 'none') {
    // The same token stays in use; its unused lifetime starts again.
    token.expiresAt = refreshExpiry(target, token.grant, now);
    return issue(
      ctx,
      target,
      fields,
      rules.refreshAnswer === 'omitted' ? undefined : { reuse: value, token },
    );
  }
  // The first use is what a grace window counts from, and what tells Shopify the predecessor may go.
  token.spentAt ??= now;
  const answer = issue(ctx, target, fields, 'new');
  token.successor = answer.refresh_token as string;
  return answer;
}

/** A spent refresh token came back: accepted or refused as the profile's rotation says. */
function acceptReuse(ctx: ProfileContext, target: Target, token: ProfileRefreshToken, now: number): void {
  const { profile, tunables } = target;
  const id = profile.id;
  const account = token.grant.account;
  ctx.profiles.count(id, 'refreshTokenReuses');
  const refuse = (description: string) => {
    ctx.profiles.count(id, 'refreshTokenReusesRefused');
    ctx.reuses.record({ provider: id, account, inGrace: false, refused: true });
    return invalidGrant(description);
  };
  const accept = (inGrace: boolean) => {
    if (inGrace) ctx.profiles.count(id, 'refreshTokenReusesInGrace');
    ctx.reuses.record({ provider: id, account, inGrace, refused: false });
  };
  switch (profile.refreshToken.rotation) {
    case 'none':
    case 'keep-old':
      return accept(false);
    case 'until-successor-used': {
      const successor = token.successor && ctx.profiles.refreshTokenRecord(token.successor);
      if (successor && successor.spentAt !== undefined) {
        throw refuse('The refresh token was replaced and its replacement is in use.');
      }
      return accept(false);
    }
    case 'single-use':
      throw refuse('The refresh token was already used.');
    case 'grace': {
      const graceSeconds = tunables.graceSeconds ?? profile.refreshToken.graceSeconds ?? 0;
      if (now - (token.spentAt ?? now) <= graceSeconds * 1000) return accept(true);
      if (profile.refreshToken.revokeGrantOnLateReuse) {
        ctx.profiles.revokeRefreshTokens(token.grant);
        ctx.profiles.count(id, 'lineageRevocations');
      }
      throw refuse(`The refresh token was already used more than ${graceSeconds} seconds ago.`);
    }
    case 'lineage':
      ctx.profiles.revokeGrant(token.grant);
      ctx.profiles.count(id, 'lineageRevocations');
      throw refuse('The refresh token was already used; every token of its lineage is revoked.');
  }
}

function refreshExpiry(target: Target, grant: ProfileGrant, now: number): number {
  const rules = target.profile.refreshToken;
  const unused = target.tunables.refreshTokenUnusedTtlSeconds ?? rules.unusedTtlSeconds ?? UNLIMITED_SECONDS;
  const absoluteSeconds = Math.min(
    rules.absoluteTtlSeconds ?? Infinity,
    target.tunables.testingApp ? (rules.testingAppTtlSeconds ?? Infinity) : Infinity,
  );
  const absolute = absoluteSeconds === Infinity ? Infinity : grant.createdAt + absoluteSeconds * 1000;
  return Math.min(now + unused * 1000, absolute);
}

interface IssueFields {
  readonly clientId: string;
  readonly scope: readonly string[];
  readonly account: string | undefined;
  readonly grant: ProfileGrant | undefined;
}

/** Issues an access token (and a refresh token: a new one, the same one again, or none) and builds the answer. */
function issue(
  ctx: ProfileContext,
  target: Target,
  fields: IssueFields,
  refreshToken: 'new' | { reuse: string; token: ProfileRefreshToken } | undefined,
  nonExpiring = false,
): Answer {
  const { profile } = target;
  const now = Date.now();
  const ttl = nonExpiring
    ? UNLIMITED_SECONDS
    : (target.tunables.accessTokenTtlSeconds ?? profile.accessToken.ttlSeconds);
  const accessToken = ctx.profiles.issueAccessToken({
    profileId: profile.id,
    clientId: fields.clientId,
    host: target.host,
    scope: fields.scope,
    account: fields.account,
    grant: fields.grant,
    expiresAt: now + ttl * 1000,
  });
  const answer: Answer = { access_token: accessToken };
  if (profile.accessToken.tokenType) answer.token_type = profile.accessToken.tokenType;
  if (profile.accessToken.reportsExpiresIn && !nonExpiring) answer.expires_in = Math.ceil(ttl);
  let refreshRecord: ProfileRefreshToken | undefined;
  if (refreshToken === 'new' && fields.grant) {
    refreshRecord = {
      profileId: profile.id,
      grant: fields.grant,
      scope: fields.scope,
      expiresAt: refreshExpiry(target, fields.grant, now),
    };
    answer.refresh_token = ctx.profiles.issueRefreshToken(refreshRecord);
  } else if (refreshToken !== undefined && refreshToken !== 'new') {
    refreshRecord = refreshToken.token;
    answer.refresh_token = refreshToken.reuse;
  }
  const expiresInField = profile.refreshToken.expiresInField;
  if (refreshRecord && expiresInField) {
    // To the nearest second: the grant was created a moment before `now`, in the same exchange.
    answer[expiresInField] = Math.max(0, Math.round((refreshRecord.expiresAt - now) / 1000));
  }
  if (fields.scope.length > 0 || profile.scopes.known?.length === 0) {
    answer.scope = fields.scope.join(profile.scopes.separator);
  }
  for (const [name, value] of Object.entries(profile.tokenAnswerExtras ?? {})) {
    answer[name] = fill(value, target, fields.account ?? fields.clientId);
  }
  return answer;
}

/** Replaces the placeholders of a template (see {@link Template}). */
function fill(template: Template, target: Target, account: string): unknown {
  if (typeof template === 'string') {
    const accountId = createHash('sha256').update(account).digest('hex').slice(0, 12).toUpperCase();
    const now = Date.now();
    return template
      .replaceAll('{sandbox}', target.origin)
      .replaceAll('{host}', target.host ?? '')
      .replaceAll(
        '{hostBase64}',
        Buffer.from(`admin.shopify.com/store/${target.host ?? ''}`).toString('base64url'),
      )
      .replaceAll('{accountId}', accountId)
      .replaceAll('{account}', account)
      .replaceAll('{nowSeconds}', String(Math.floor(now / 1000)))
      .replaceAll('{now}', String(now));
  }
  if (template === null || typeof template !== 'object') return template;
  return Object.fromEntries(
    Object.entries(template).map(([name, value]) => [name, fill(value, target, account)]),
  );
}

// ---------------------------------------------------------------------------------------------------------
// Protected resource

function resource(ctx: ProfileContext, where: Target | string, request: FastifyRequest, reply: FastifyReply) {
  if (typeof where === 'string')
    return reply.status(404).send({ error: 'not_found', error_description: where });
  const value = bearerToken(request.headers.authorization);
  const token = value === undefined ? undefined : ctx.profiles.findAccessToken(where.profile.id, value);
  if (token !== undefined && token.host === where.host) {
    return reply.send({
      account: token.account ?? null,
      scope: token.scope.join(' '),
      host: token.host ?? null,
    });
  }
  return reply
    .status(401)
    .header('www-authenticate', `Bearer realm="${where.profile.id}", error="invalid_token"`)
    .send({ error: 'invalid_token', error_description: 'The access token is unknown, expired or revoked.' });
}
