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
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 90 * 86400 },
  answerShape: 'oauth',
};
