import type { ProviderProfile } from '../profile';

/** Zoho accounts server of one data centre per connection; errors come back with HTTP 200. */
export const zoho: ProviderProfile = {
  id: 'zoho',
  name: 'Zoho',
  docs: [
    'https://www.zoho.com/accounts/protocol/oauth/web-apps/authorization.html',
    'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html',
    'https://www.zoho.com/accounts/protocol/oauth/multi-dc.html',
  ],
  host: { name: 'domain', pattern: '^(com|eu|in|com\\.au|jp|ca|com\\.cn|sa|uk)$' },
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ',', required: true },
  refreshTokenIssuance: {
    authorizationParams: { access_type: 'offline' },
    againParams: { prompt: 'consent' },
  },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "A client ID can have a maximum of 20 active refresh tokens. If you create the 21st token, the
  // first token generated will be removed."
  refreshToken: { rotation: 'none', refreshAnswer: 'omitted', maxPerAccount: 20 },
  answerShape: 'zoho',
  tokenAnswerExtras: { api_domain: 'https://www.zohoapis.{host}' },
};
