import { COMMA, type CatalogueEntry } from './entry';

export const shopify: CatalogueEntry = {
  id: 'shopify',
  name: 'Shopify',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://{shop}.myshopify.com/admin/oauth/authorize',
  tokenUrl: 'https://{shop}.myshopify.com/admin/oauth/access_token',
  tokenAuthMethod: 'client_secret_post',
  scopeSeparator: COMMA,
  // Expiring offline tokens: asked for with expiring=1 on the code exchange.
  codeExchangeParams: { expiring: '1' },
  // Shopify's token answer names no token_type.
  tokenTypeOptional: true,
  config: [
    {
      name: 'shop',
      pattern: '[a-zA-Z0-9][a-zA-Z0-9-]{0,59}',
      description: 'the store\'s subdomain: "acme" for acme.myshopify.com',
    },
  ],
  // One hour; Shopify replaces the refresh token on every use (since August 2026 it keeps the
  // previous one until the new one is used); refresh_token_expires_in tells its lifetime.
  accessTokenSeconds: 3600,
  refreshToken: { rotation: 'rotating' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh',
      unverified:
        "each refresh returns a new refresh token; since August 2026 the previous one works until the new one is used (the sandbox profile's reading of the changelog); not re-read",
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens',
      unverified: 'one hour, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
      unverified: "client_id and client_secret in the body, as the page's example sends them; not re-read",
    },
  ],
  docs: [
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens',
    'https://shopify.dev/changelog/offline-access-tokens-now-support-expiry-and-refresh',
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
  ],
};
