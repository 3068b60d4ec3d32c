import type { ProviderProfile } from '../profile';

/**
 * Exact Online: ten-minute access tokens, and a new one may be acquired only once every 9.5 minutes: a
 * refresh is refused while the access token has more than 30 seconds left.
 */
export const exactOnline: ProviderProfile = {
  id: 'exact-online',
  name: 'Exact Online',
  docs: [
    'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleman',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ' },
  accessToken: { ttlSeconds: 600, reportsExpiresIn: true, tokenType: 'bearer' },
  // The previous refresh token expires once the new one is used; an unused one lasts 30 days.
  refreshToken: { rotation: 'until-successor-used', unusedTtlSeconds: 30 * 86400 },
  earliestRefreshSeconds: 30,
  answerShape: 'oauth',
};
