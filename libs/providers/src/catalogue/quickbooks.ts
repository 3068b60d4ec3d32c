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
  // The value may change on any refresh (always keep the latest); 100 days, rolling.
  refreshToken: { rotation: 'rotating', idleSeconds: 100 * 86_400 },
  sources: [],
  docs: [
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
  ],
};
