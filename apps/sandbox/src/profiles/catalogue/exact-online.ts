import type { ProviderProfile } from '../profile';

/** Exact Online: ten-minute access tokens that may only be refreshed in their last 30 seconds. */
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
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 30 * 86400 },
  earliestRefreshSeconds: 30,
  answerShape: 'oauth',
};
