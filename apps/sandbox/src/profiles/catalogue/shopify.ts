import type { ProviderProfile } from '../profile';

/** Shopify authorization code grant with expiring offline access tokens, one shop per connection. */
export const shopify: ProviderProfile = {
  id: 'shopify',
  name: 'Shopify',
  docs: [
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant',
    'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens',
    'https://shopify.dev/changelog/more-resilient-refreshes-for-expiring-offline-access-tokens',
  ],
  host: { name: 'shop', pattern: '^[a-zA-Z0-9][a-zA-Z0-9-]{0,59}$' },
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ',' },
  // Without expiring=1 on the exchange the offline token never expires and has no refresh token.
  refreshTokenIssuance: { exchangeParams: { expiring: '1' } },
  // The answer has no token_type: Shopify tokens go in X-Shopify-Access-Token.
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: '' },
  // The previous refresh token is kept until the app starts using its replacement (changelog, 2026-08-28).
  refreshToken: {
    rotation: 'until-successor-used',
    unusedTtlSeconds: 90 * 86400,
    expiresInField: 'refresh_token_expires_in',
  },
  answerShape: 'oauth',
  callbackExtras: { shop: '{host}.myshopify.com', host: '{hostBase64}', timestamp: '{nowSeconds}' },
  signsCallback: true,
};
