/**
 * Bloomerang (seed 000): authorization code flow with HTTP Basic client authentication and rotating,
 * single-use refresh tokens. `/bloomerang/Authorize` stands for crm.bloomerang.co/Authorize and
 * `/bloomerang/v2/...` for api.bloomerang.co/v2/....
 */
import type { FastifyInstance } from 'fastify';
import { registerAuthorizationEndpoint } from './authorize';
import type { SandboxContext } from './context';
import { exchangeAuthorizationCode, exchangeRefreshToken, type ScopeRules } from './grants';
import { requireParam, unsupportedGrantType } from './protocol';
import { resourceRoute } from './resource';
import { authenticateClient, tokenRoute } from './token-endpoint';

/** Bloomerang's scopes, each including the ones before it. */
export const BLOOMERANG_SCOPES = ['Standard', 'StandardEditFinancialData', 'OrgAdmin'] as const;
/** "If not provided, this will default to the highest available scope allowed for the account." */
const DEFAULT_SCOPE = 'OrgAdmin';

const rank = (scope: string) => BLOOMERANG_SCOPES.indexOf(scope as (typeof BLOOMERANG_SCOPES)[number]);

const scopeRules: ScopeRules = {
  narrow: (requested, granted) =>
    rank(requested) >= 0 && rank(requested) <= rank(granted) ? requested : undefined,
};

export function registerBloomerang(app: FastifyInstance, ctx: SandboxContext): void {
  registerAuthorizationEndpoint(app, ctx, '/bloomerang/Authorize', {
    provider: 'bloomerang',
    displayName: 'Bloomerang',
    stateRequired: true,
    supportsPkce: false,
    // The sandbox account holds OrgAdmin, so any of the three scopes may be requested.
    grantedScope: (requested) =>
      requested === undefined ? DEFAULT_SCOPE : scopeRules.narrow(requested, DEFAULT_SCOPE),
  });

  app.post(
    '/bloomerang/v2/oauth/token',
    tokenRoute(ctx, 'bloomerang', (params, request) => {
      // "Basic Auth, with your client Id as the username and client secret as the password": taken
      // literally, so a client that percent-encodes `-` (oauth4webapi's default) is refused.
      const client = authenticateClient(ctx, 'bloomerang', request, params, {
        basic: 'literal',
        post: false,
      });
      const grantType = requireParam(params, 'grant_type');
      switch (grantType) {
        case 'authorization_code':
          return exchangeAuthorizationCode(ctx, client, params, { redirectUriAlwaysRequired: true });
        case 'refresh_token':
          return exchangeRefreshToken(ctx, client, params, scopeRules);
        default:
          throw unsupportedGrantType(grantType);
      }
    }),
  );

  app.get(
    '/bloomerang/v2/me',
    resourceRoute(ctx, 'bloomerang', (token) => ({ account: token.account, scope: token.scope })),
  );
}
