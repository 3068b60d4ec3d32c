import type { ProviderProfile } from '../profile';

/** Zoom OAuth apps (user-managed): refresh tokens are replaced on every refresh. */
export const zoom: ProviderProfile = {
  id: 'zoom',
  name: 'Zoom',
  docs: ['https://developers.zoom.us/docs/integrations/oauth/'],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ',' },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'bearer' },
  // "Refresh tokens expire after 15 years, however, the latest refresh token must always be used for
  // the next refresh request" (Zoom developer support).
  refreshToken: { rotation: 'single-use', absoluteTtlSeconds: 15 * 365 * 86400 },
  answerShape: 'oauth',
};
