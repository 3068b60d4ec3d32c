import type { ProviderProfile } from '../profile';

/** Calendly: single-use rotating refresh tokens that do not expire until used; the answer names owner and organization. */
export const calendly: ProviderProfile = {
  id: 'calendly',
  name: 'Calendly',
  docs: [
    'https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token',
    'https://developer.calendly.com/refresh-token-rotation-guide',
    'https://developer.calendly.com/creating-an-oauth-app',
  ],
  // "Web clients: pass client_id and client_secret via Basic HTTP Authorization header"
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  // Recommended for every application, not required ("While this flow is supported, we recommend using the PKCE flow").
  pkce: 'supported',
  scopes: { separator: ' ' },
  // "Access Tokens expire after 2 hours."
  accessToken: { ttlSeconds: 7200, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "A refresh token is revoked immediately after a successful POST /oauth/token call."
  // "Refresh Tokens don't expire until they are used."
  refreshToken: { rotation: 'single-use' },
  answerShape: 'oauth',
  tokenAnswerExtras: {
    owner: 'https://api.calendly.com/users/{accountId}',
    organization: 'https://api.calendly.com/organizations/{accountId}',
  },
};
