import type { ProviderProfile } from '../profile';

/** FreshBooks: 12-hour access tokens; a refresh token never expires but can be used once. */
export const freshbooks: ProviderProfile = {
  id: 'freshbooks',
  name: 'FreshBooks',
  docs: [
    'https://www.freshbooks.com/developers/authentication',
    'https://www.freshbooks.com/api/get-authenticated-on-the-freshbooks-api',
  ],
  // The client id and secret travel with the code (or refresh token) in the request body.
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ' },
  accessToken: { ttlSeconds: 12 * 3600, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "a Refresh Token (which never expires, but can only be used once)"
  refreshToken: { rotation: 'single-use' },
  answerShape: 'oauth',
};
