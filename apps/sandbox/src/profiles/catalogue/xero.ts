import type { ProviderProfile } from '../profile';

/** Xero: rotating refresh tokens; the previous one may be retried for 30 minutes. */
export const xero: ProviderProfile = {
  id: 'xero',
  name: 'Xero',
  docs: [
    'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
    'https://developer.xero.com/faq/oauth2',
  ],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ', required: true },
  refreshTokenIssuance: { scope: 'offline_access' },
  accessToken: { ttlSeconds: 1800, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "you can retry refreshing your existing refresh token for a grace period of 30 minutes";
  // "Unused refresh tokens expire after 60 days".
  refreshToken: { rotation: 'grace', graceSeconds: 1800, unusedTtlSeconds: 60 * 86400 },
  answerShape: 'oauth',
};
