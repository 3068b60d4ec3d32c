/**
 * A plain RFC 6749 provider for the broker's `oauth2` provider kind: authorization code (with optional
 * PKCE), rotating single-use refresh tokens as at Bloomerang, and client credentials. The token endpoint
 * accepts client_secret_basic and client_secret_post.
 */
import type { FastifyInstance } from 'fastify';
import { registerAuthorizationEndpoint } from './authorize';
import type { SandboxContext } from './context';
import { exchangeAuthorizationCode, exchangeRefreshToken, issueAccessToken, type ScopeRules } from './grants';
import { requireParam, unsupportedGrantType } from './protocol';
import { resourceRoute } from './resource';
import { authenticateClient, tokenRoute } from './token-endpoint';

/** Space-separated scope tokens, without duplicates, in the order given. */
const scopeList = (scope: string | undefined) => [...new Set((scope ?? '').split(' ').filter(Boolean))];

const scopeRules: ScopeRules = {
  narrow: (requested, granted) => {
    const held = new Set(scopeList(granted));
    const asked = scopeList(requested);
    return asked.every((scope) => held.has(scope)) ? asked.join(' ') : undefined;
  },
};

export function registerGeneric(app: FastifyInstance, ctx: SandboxContext): void {
  registerAuthorizationEndpoint(app, ctx, '/generic/authorize', {
    provider: 'generic',
    displayName: 'Generic OAuth',
    stateRequired: false,
    supportsPkce: true,
    grantedScope: (requested) => scopeList(requested).join(' '),
  });

  app.post(
    '/generic/token',
    tokenRoute(ctx, 'generic', (params, request) => {
      const client = authenticateClient(ctx, 'generic', request, params, {
        basic: 'form-encoded',
        post: true,
      });
      const grantType = requireParam(params, 'grant_type');
      switch (grantType) {
        case 'authorization_code':
          return exchangeAuthorizationCode(ctx, client, params, { redirectUriAlwaysRequired: false });
        case 'refresh_token':
          return exchangeRefreshToken(ctx, client, params, scopeRules);
        case 'client_credentials': {
          const scope = scopeList(params.scope).join(' ');
          const token = { provider: 'generic', clientId: client.clientId, scope } as const;
          return {
            ...issueAccessToken(ctx, token, ctx.settings.accessTokenTtlSeconds),
            ...(scope === '' ? {} : { scope }),
          };
        }
        default:
          throw unsupportedGrantType(grantType);
      }
    }),
  );

  app.get(
    '/generic/resource',
    resourceRoute(ctx, 'generic', (token) => ({
      clientId: token.clientId,
      account: token.account ?? null,
      scope: token.scope,
    })),
  );
}
