import type { ProviderProfile } from '../profile';

/** Box OAuth 2.0: a refresh token can be used once, and lasts 60 days. */
export const box: ProviderProfile = {
  id: 'box',
  name: 'Box',
  docs: [
    'https://developer.box.com/guides/authentication/oauth2/',
    'https://developer.box.com/guides/authentication/tokens/refresh/',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ' },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'bearer' },
  // "can be used to obtain a new Access Token and Refresh Token only once"; by Box's staff, a spent
  // token presented again still works until its replacement has been used (issue 24).
  refreshToken: { rotation: 'until-successor-used', unusedTtlSeconds: 60 * 86400 },
  answerShape: 'oauth',
};
