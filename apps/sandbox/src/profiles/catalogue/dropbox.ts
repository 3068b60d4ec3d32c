import type { ProviderProfile } from '../profile';

/** Dropbox OAuth 2: short-lived access tokens, a long-lived refresh token only with token_access_type=offline. */
export const dropbox: ProviderProfile = {
  id: 'dropbox',
  name: 'Dropbox',
  docs: [
    'https://www.dropbox.com/developers/documentation/http/documentation#oauth2-authorize',
    'https://developers.dropbox.com/oauth-guide',
  ],
  clientAuthentication: 'basic-or-post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ' },
  refreshTokenIssuance: { authorizationParams: { token_access_type: 'offline' } },
  accessToken: { ttlSeconds: 14400, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: { rotation: 'none', refreshAnswer: 'omitted' },
  answerShape: 'oauth',
  tokenAnswerExtras: { account_id: 'dbid:AAD{accountId}', uid: '{accountId}' },
};
