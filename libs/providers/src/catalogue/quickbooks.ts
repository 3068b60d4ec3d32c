import type { CatalogueEntry } from './entry';

export const quickbooks: CatalogueEntry = {
  id: 'quickbooks',
  name: 'QuickBooks Online (Intuit)',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://appcenter.intuit.com/connect/oauth2',
  tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
  tokenAuthMethod: 'client_secret_basic',
  defaultScopes: ['com.intuit.quickbooks.accounting'],
  // Intuit's scopes: the two API scopes and the OpenID Connect ones.
  allowedScopes: [
    'com.intuit.quickbooks.accounting',
    'com.intuit.quickbooks.payment',
    'openid',
    'profile',
    'email',
    'phone',
    'address',
  ],
  // The company the user picked comes back on the callback only.
  metadata: { tokenResponse: [], callback: ['realmId'] },
  accessTokenSeconds: 3600,
  refreshTokenExpiresInField: 'x_refresh_token_expires_in',
  // The value may change on any refresh (always keep the latest); 100 days, rolling, and at most
  // five years from issue whatever the use (Intuit, November 2025).
  refreshToken: { rotation: 'rotating', idleSeconds: 100 * 86_400, lifetimeSeconds: 5 * 365 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
      quote:
        'When it expires, use the latest refresh_token value from the most recent server response to “refresh” it.',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://blogs.intuit.com/2024/06/03/oauth-token-management-done-the-right-way/',
      quote:
        'Refresh tokens are valid for 100 days. This is a rolling expiry date that is extended each time the token is used to refresh an access token.',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://blogs.a.intuit.com/2025/11/12/important-changes-to-refresh-token-policy',
      quote: 'All refresh tokens will now have a maximum validity period of five years.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
      quote: 'Access tokens are valid for 3,600 seconds (or one hour).',
    },
    {
      rule: 'clientAuth',
      url: 'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
      unverified: "HTTP Basic with the client id and secret, as the page's token request shows; not re-read",
    },
  ],
  docs: [
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
  ],
};
