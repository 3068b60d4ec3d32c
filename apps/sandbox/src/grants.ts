/**
 * The authorization code and rotating refresh token grants, shared by Bloomerang and the generic
 * provider. Refresh tokens are single-use; presenting a used code or refresh token revokes its chain.
 */
import { createHash } from 'node:crypto';
import type { ProviderName } from './clients';
import type { SandboxContext } from './context';
import { invalidGrant, invalidScope, requireParam, secretsEqual, type Params } from './protocol';
import type { AccessToken, Grant, PkceChallenge } from './state';
import type { TokenResponseBody } from './token-endpoint';

interface AuthenticatedClient {
  readonly provider: ProviderName;
  readonly clientId: string;
}

export interface ScopeRules {
  /** The scope a refresh asking for `requested` gets under a grant of `granted`, or undefined if wider. */
  narrow(requested: string, granted: string): string | undefined;
}

export interface CodeExchangeRules {
  /** Bloomerang requires redirect_uri even when /Authorize fell back to the registered URI. */
  readonly redirectUriAlwaysRequired: boolean;
}

export function exchangeAuthorizationCode(
  ctx: SandboxContext,
  client: AuthenticatedClient,
  params: Params,
  rules: CodeExchangeRules,
): TokenResponseBody {
  const value = requireParam(params, 'code');
  const redirectUri = rules.redirectUriAlwaysRequired
    ? requireParam(params, 'redirect_uri')
    : params.redirect_uri;
  const code = ctx.store.findCode(client.provider, value);
  if (code === undefined) throw invalidGrant('The authorization code is unknown or has expired.');
  if (code.grant !== undefined) {
    ctx.store.count('codeReuses');
    ctx.store.revokeGrant(code.grant);
    throw invalidGrant('The authorization code was already used; the tokens issued from it are revoked.');
  }
  if (code.clientId !== client.clientId) {
    throw invalidGrant('The authorization code was issued to another client.');
  }
  // RFC 6749 4.1.3: redirect_uri must repeat the authorization request's value whenever that one carried it.
  if ((code.redirectUriGiven || redirectUri !== undefined) && redirectUri !== code.redirectUri) {
    throw invalidGrant('redirect_uri does not match the one used in the authorization request.');
  }
  if (code.pkce) verifyPkce(code.pkce, params.code_verifier);
  code.grant = ctx.store.createGrant({
    provider: code.provider,
    clientId: code.clientId,
    account: code.account,
    scope: code.scope,
  });
  ctx.store.count('codeUses');
  return issueTokenPair(ctx, code.grant, code.scope);
}

export function exchangeRefreshToken(
  ctx: SandboxContext,
  client: AuthenticatedClient,
  params: Params,
  scopeRules: ScopeRules,
): TokenResponseBody {
  const token = ctx.store.findRefreshToken(client.provider, requireParam(params, 'refresh_token'));
  if (token === undefined) throw invalidGrant('The refresh token is unknown, expired or revoked.');
  if (token.used) {
    ctx.store.count('refreshTokenReuses');
    ctx.reuses.record({
      provider: client.provider,
      account: token.grant.account,
      inGrace: false,
      refused: true,
    });
    ctx.store.revokeGrant(token.grant);
    throw invalidGrant('The refresh token was already used; every token in its chain is revoked.');
  }
  if (token.clientId !== client.clientId) {
    throw invalidGrant('The refresh token was issued to another client.');
  }
  const scope = params.scope === undefined ? token.scope : scopeRules.narrow(params.scope, token.grant.scope);
  if (scope === undefined) {
    throw invalidScope('The requested scope is greater than the scope originally granted.');
  }
  token.used = true;
  ctx.store.count('refreshTokenUses');
  return issueTokenPair(ctx, token.grant, scope);
}

/** Issues an access token; `expires_in` rounds up so a fractional test TTL never reads as 0. */
export function issueAccessToken(
  ctx: SandboxContext,
  token: Omit<AccessToken, 'expiresAt'>,
  ttlSeconds: number,
) {
  const value = ctx.store.issueAccessToken({ ...token, expiresAt: Date.now() + ttlSeconds * 1000 });
  return { access_token: value, token_type: 'Bearer', expires_in: Math.ceil(ttlSeconds) } as const;
}

function issueTokenPair(ctx: SandboxContext, grant: Grant, scope: string): TokenResponseBody {
  const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = ctx.settings;
  const issued = { provider: grant.provider, clientId: grant.clientId, scope, grant };
  const access = issueAccessToken(ctx, { ...issued, account: grant.account }, accessTokenTtlSeconds);
  const refreshToken = ctx.store.issueRefreshToken({
    ...issued,
    expiresAt: Date.now() + refreshTokenTtlSeconds * 1000,
  });
  return { ...access, ...(scope === '' ? {} : { scope }), refresh_token: refreshToken };
}

/** RFC 7636 4.6; a failed check leaves the code unused, as the client may retry with the right verifier. */
function verifyPkce(pkce: PkceChallenge, verifier: string | undefined): void {
  if (verifier === undefined) {
    throw invalidGrant('code_verifier is required: the authorization request carried a code_challenge.');
  }
  const derived =
    pkce.method === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
  if (!secretsEqual(derived, pkce.challenge)) {
    throw invalidGrant('code_verifier does not match the code_challenge.');
  }
}
