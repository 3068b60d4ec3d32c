/**
 * Bloom Credit (seed 001): client credentials with the id and secret in the form body. `/bloom/oauth2/token`
 * is the v2 endpoint (audience and scope), `/bloom/oauth/token` the legacy v1 one (audience only). Bloom's
 * authorization server is Auth0, whose error responses these follow.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { BloomClient } from './clients';
import type { SandboxContext } from './context';
import { issueAccessToken } from './grants';
import { invalidScope, OAuthError, requireParam, unsupportedGrantType, type Params } from './protocol';
import { resourceRoute } from './resource';
import { authenticateClient, tokenRoute, type TokenResponseBody } from './token-endpoint';

export function registerBloom(app: FastifyInstance, ctx: SandboxContext): void {
  app.post(
    '/bloom/oauth2/token',
    tokenRoute(ctx, 'bloom', (params, request) => issueBloomToken(ctx, params, request, requestedScope)),
  );
  // v1 takes no scope: its tokens carry every scope the client holds.
  app.post(
    '/bloom/oauth/token',
    tokenRoute(ctx, 'bloom', (params, request) =>
      issueBloomToken(ctx, params, request, (client) => client.scopes.join(' ')),
    ),
  );
  app.get(
    '/bloom/v2/resource',
    resourceRoute(ctx, 'bloom', (token) => ({ clientId: token.clientId, scope: token.scope })),
  );
}

function issueBloomToken(
  ctx: SandboxContext,
  params: Params,
  request: FastifyRequest,
  scopeFor: (client: BloomClient, params: Params) => string,
): TokenResponseBody {
  const client = authenticateClient(ctx, 'bloom', request, params, { basic: false, post: true });
  const grantType = requireParam(params, 'grant_type');
  if (grantType !== 'client_credentials') throw unsupportedGrantType(grantType);
  const audience = params.audience;
  if (audience === undefined) {
    throw new OAuthError(
      403,
      'access_denied',
      'No audience parameter was provided, and no default audience has been configured.',
    );
  }
  if (audience !== client.audience) {
    throw new OAuthError(403, 'access_denied', `Service not found: ${audience}`);
  }
  const scope = scopeFor(client, params);
  const token = issueAccessToken(
    ctx,
    { provider: 'bloom', clientId: client.clientId, scope },
    ctx.settings.bloomTokenTtlSeconds,
  );
  return {
    access_token: token.access_token,
    scope,
    expires_in: token.expires_in,
    token_type: token.token_type,
  };
}

/** v2: a required, space-separated scope whose every entry the client must hold. */
function requestedScope(client: BloomClient, params: Params): string {
  const requested = [...new Set(requireParam(params, 'scope').split(' ').filter(Boolean))];
  const refused = requested.filter((scope) => !client.scopes.includes(scope));
  if (requested.length === 0 || refused.length > 0) {
    throw invalidScope(`Client has not been granted scopes: ${refused.join(' ') || '(none requested)'}`);
  }
  return requested.join(' ');
}
