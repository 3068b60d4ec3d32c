import type { CatalogueEntry } from './entry';

const OAUTH = 'https://developers.outreach.io/api/oauth/';
const STARTED = 'https://developers.outreach.io/api/getting-started/';

/** Outreach (sales engagement): short-lived tokens since 2021; scopes space-separated. */
export const outreach: CatalogueEntry = {
  id: 'outreach',
  name: 'Outreach',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://api.outreach.io/oauth/authorize',
  tokenUrl: 'https://api.outreach.io/oauth/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 7200,
  refreshToken: { rotation: 'single_use', idleSeconds: 14 * 86_400 },
  sources: [
    {
      rule: 'refreshEarning',
      url: OAUTH,
      quote:
        'Access token is valid for limited period only but you can refresh it using the refresh token returned in the same response.',
    },
    {
      rule: 'clientAuth',
      url: STARTED,
      unverified:
        'no page read here names the method: client_id and client_secret in the form body, as integrators send them',
    },
    {
      rule: 'accessTokenLifetime',
      url: STARTED,
      unverified:
        'two hours, as client libraries say; the page says only "Starting on January 1, 2021, all authentication tokens issued by Outreach will be short-lived."',
    },
    {
      rule: 'refreshTokenIdle',
      url: STARTED,
      unverified:
        "14 days, as reported by integrators; the page's token availability section was not readable here",
    },
    {
      rule: 'rotation',
      url: STARTED,
      unverified:
        'a refresh answer carries a new refresh token; whether the previous one keeps working is not confirmed: read as dead at once, the safe reading',
    },
  ],
  docs: [OAUTH, STARTED],
};
