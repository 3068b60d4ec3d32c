import type { ProviderProfile } from '../profile';

/** Outreach: short-lived access tokens, a refresh token with each answer (lifetimes as reported, not confirmed). */
export const outreach: ProviderProfile = {
  id: 'outreach',
  name: 'Outreach',
  docs: ['https://developers.outreach.io/api/oauth/', 'https://developers.outreach.io/api/getting-started/'],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  // "Note that scope must be a space-separated list of permitted API scopes"
  scopes: { separator: ' ' },
  accessToken: { ttlSeconds: 7200, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 14 * 86400 },
  answerShape: 'oauth',
};
