import type { ProviderProfile } from '../profile';

/** Google OAuth 2.0 for web server applications. */
export const google: ProviderProfile = {
  id: 'google',
  name: 'Google',
  docs: [
    'https://developers.google.com/identity/protocols/oauth2/web-server',
    'https://developers.google.com/identity/protocols/oauth2#expiration',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ', required: true },
  // "access_type=offline": a refresh token the first time; once more only with "prompt=consent".
  refreshTokenIssuance: {
    authorizationParams: { access_type: 'offline' },
    againParams: { prompt: 'consent' },
  },
  accessToken: { ttlSeconds: 3599, reportsExpiresIn: true, tokenType: 'Bearer' },
  // The refresh answer has no refresh_token; an unused refresh token expires after six months.
  refreshToken: {
    rotation: 'none',
    refreshAnswer: 'omitted',
    unusedTtlSeconds: 182 * 86400,
    testingAppTtlSeconds: 7 * 86400,
  },
  answerShape: 'oauth',
};
