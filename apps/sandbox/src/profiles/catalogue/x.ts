import type { ProviderProfile } from '../profile';

/** X (Twitter) OAuth 2.0 authorization code flow with PKCE, confidential client. */
export const x: ProviderProfile = {
  id: 'x',
  name: 'X',
  docs: [
    'https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/authorization-code',
    'https://docs.x.com/resources/fundamentals/authentication/oauth-2-0/user-access-token',
  ],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'required',
  scopes: { separator: ' ', required: true },
  refreshTokenIssuance: { scope: 'offline.access' },
  accessToken: { ttlSeconds: 7200, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: { rotation: 'single-use' },
  answerShape: 'oauth',
};
