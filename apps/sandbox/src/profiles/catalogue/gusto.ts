import type { ProviderProfile } from '../profile';

/**
 * Gusto: two-hour access tokens; every refresh returns a new refresh token. Gusto revokes the previous
 * one on the first use of the new access token; the sandbox revokes it at once, the state any client
 * that uses its new token reaches.
 */
export const gusto: ProviderProfile = {
  id: 'gusto',
  name: 'Gusto',
  docs: [
    'https://docs.gusto.com/app-integrations/docs/oauth2',
    'https://docs.gusto.com/app-integrations/v2024-04-01/reference/refresh-access-token',
    'https://docs.gusto.com/embedded-payroll/docs/company-access-tokens',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ' },
  // "This access token expires 2 hours after they are issued."
  accessToken: { ttlSeconds: 7200, reportsExpiresIn: true, tokenType: 'bearer' },
  // "The previous refresh_token will be revoked on the first usage of the new access_token."
  refreshToken: { rotation: 'single-use' },
  answerShape: 'oauth',
};
