import type { CatalogueEntry } from './entry';

const OAUTH = 'https://docs.gusto.com/app-integrations/docs/oauth2';
// The same OAuth server; the outline's sentence was read in full on this copy of the guide.
const OAUTH_OUTLINE = 'https://docs.gusto.com/embedded-payroll/docs/oauth2';
const REFRESH = 'https://docs.gusto.com/app-integrations/v2024-04-01/reference/refresh-access-token';
const TOKENS = 'https://docs.gusto.com/embedded-payroll/docs/company-access-tokens';

/**
 * Gusto (payroll). One grant per company since v2023-05-01. Every refresh returns a new refresh
 * token; the previous one keeps working until the new access token is first used, so a lost
 * answer may be retried with it, but only until then.
 */
export const gusto: CatalogueEntry = {
  id: 'gusto',
  name: 'Gusto',
  grantTypes: ['authorization_code'],
  // Development goes to api.gusto-demo.com: use the overrides.
  authorizationUrl: 'https://api.gusto.com/oauth/authorize',
  tokenUrl: 'https://api.gusto.com/oauth/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 7200,
  refreshToken: { rotation: 'rotating' },
  sources: [
    {
      rule: 'rotation',
      url: REFRESH,
      quote: 'The previous refresh_token will be revoked on the first usage of the new access_token.',
    },
    {
      rule: 'accessTokenLifetime',
      url: TOKENS,
      quote: 'This access token expires 2 hours after they are issued.',
    },
    {
      rule: 'clientAuth',
      url: TOKENS,
      quote:
        'To refresh the access token, you will need the client_id, and client_secret from the application you created in the developer portal as well as your refresh_token.',
    },
    {
      rule: 'refreshEarning',
      url: OAUTH_OUTLINE,
      quote: 'Exchange authorization code for access/refresh token pair',
    },
  ],
  docs: [OAUTH, OAUTH_OUTLINE, REFRESH, TOKENS],
};
