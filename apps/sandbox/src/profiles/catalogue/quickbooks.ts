import type { ProviderProfile } from '../profile';

/** Intuit QuickBooks Online: the company id comes back on the redirect as realmId. */
export const quickbooks: ProviderProfile = {
  id: 'quickbooks',
  name: 'QuickBooks Online',
  docs: [
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0',
    'https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq',
  ],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: {
    separator: ' ',
    required: true,
    known: [
      'com.intuit.quickbooks.accounting',
      'com.intuit.quickbooks.payment',
      'openid',
      'profile',
      'email',
      'phone',
      'address',
    ],
  },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'bearer' },
  // 100-day rolling refresh token, its remaining life in x_refresh_token_expires_in; keep the latest value.
  refreshToken: {
    rotation: 'keep-old',
    unusedTtlSeconds: 100 * 86400,
    // "All refresh tokens will now have a maximum validity period of five years" (Intuit, November 2025).
    absoluteTtlSeconds: 5 * 365 * 86400,
    expiresInField: 'x_refresh_token_expires_in',
  },
  answerShape: 'oauth',
  callbackExtras: { realmId: '9130350000000001' },
};
