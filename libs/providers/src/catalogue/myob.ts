import type { CatalogueEntry } from './entry';

const AUTH = 'https://developer.myob.com/api/accountright/api-overview/authentication/';
const SUPPORT =
  'https://apisupport.myob.com/hc/en-us/articles/360001459455-How-to-Complete-End-User-Authentication-with-OAuth2-0';
const BUSINESS_ID =
  'https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025';
const SCOPES = 'https://developer.myob.com/api/myob-business-api/api-overview/granular_data_scopes';

/**
 * MYOB Business API (AccountRight online). Keys created after 12 March 2025 ask granular `sme-*`
 * scopes and learn the company file only from the callback's businessId, which MYOB returns when
 * the authorization asks prompt=consent.
 */
export const myob: CatalogueEntry = {
  id: 'myob',
  name: 'MYOB Business',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://secure.myob.com/oauth2/account/authorize',
  // MYOB's token endpoint is called "authorize" too.
  tokenUrl: 'https://secure.myob.com/oauth2/v1/authorize',
  tokenAuthMethod: 'client_secret_post',
  authorizationParams: { prompt: 'consent' },
  metadata: { tokenResponse: [], callback: ['businessId', 'businessName'] },
  accessTokenSeconds: 1200,
  refreshToken: { rotation: 'single_use', idleSeconds: 7 * 86_400 },
  sources: [
    {
      rule: 'clientAuth',
      url: AUTH,
      unverified:
        "MYOB's authentication page lists client_id and client_secret among the parameters POSTed to the token endpoint (read on the Essentials copy of the page); no sentence names the method",
    },
    {
      rule: 'accessTokenLifetime',
      url: AUTH,
      unverified: '20 minutes (expires_in 1200) as widely reported; no MYOB sentence found in this research',
    },
    {
      rule: 'refreshTokenIdle',
      url: AUTH,
      unverified: 'one week, as widely reported; no MYOB sentence found in this research',
    },
    {
      rule: 'rotation',
      url: AUTH,
      unverified:
        'a refresh answer carries a refresh token; whether the previous one keeps working is not stated: read as dead at once, the safe reading',
    },
    {
      rule: 'refreshEarning',
      url: SUPPORT,
      quote: 'a mandatory step for an end-user to obtain a unique access/refresh tokens',
    },
  ],
  docs: [AUTH, SUPPORT, BUSINESS_ID, SCOPES],
};
