import type { CatalogueEntry } from './entry';

const STEP_ONE = 'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158081944642.html';
const STEP_TWO = 'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158081952044.html';
const REFRESH = 'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_160855594402.html';

/**
 * Oracle NetSuite (REST web services, RESTlets, SuiteAnalytics Connect), one host per account.
 * A confidential client's refresh answer carries an access token only: the refresh token is not
 * rotated, and it dies a fixed time after the grant, whatever its use.
 */
export const netsuite: CatalogueEntry = {
  id: 'netsuite',
  name: 'Oracle NetSuite',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://{accountId}.app.netsuite.com/app/login/oauth2/authorize.nl',
  tokenUrl: 'https://{accountId}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token',
  tokenAuthMethod: 'client_secret_basic',
  // NetSuite refuses code_challenge_method=plain; S256 is accepted from confidential clients too.
  pkce: 'S256',
  defaultScopes: ['rest_webservices'],
  allowedScopes: ['rest_webservices', 'restlets', 'suite_analytics', 'mcp'],
  config: [
    {
      name: 'accountId',
      pattern: '[A-Za-z0-9]+(-[A-Za-z0-9]+)*',
      description:
        'the account id as it appears in the account\'s URLs: "1234567", or "1234567-sb1" for a sandbox',
    },
  ],
  // The callback names the company (account), the role and the entity (user) that consented.
  metadata: { tokenResponse: [], callback: ['company', 'role', 'entity'] },
  accessTokenSeconds: 3600,
  refreshToken: { rotation: 'none', lifetimeSeconds: 7 * 86_400 },
  sources: [
    {
      rule: 'clientAuth',
      url: STEP_TWO,
      quote:
        'The request must include client credentials in the HTTP authorization request header and the required parameters in the request body.',
    },
    {
      rule: 'pkce',
      url: STEP_TWO,
      quote: 'The value of the code_verifier must match the value generated in Step One.',
    },
    {
      rule: 'refreshEarning',
      url: STEP_TWO,
      quote: 'At the end of this step, the access token and refresh token are granted.',
    },
    { rule: 'accessTokenLifetime', url: REFRESH, quote: 'The access token is valid for 60 minutes.' },
    {
      // Only public clients get a new refresh token with each refresh; the broker is a confidential client.
      rule: 'rotation',
      url: REFRESH,
      quote:
        'If you use public clients with OAuth 2.0, the refresh token request returns access and refresh token.',
    },
    {
      rule: 'refreshTokenLifetime',
      url: REFRESH,
      unverified:
        "7 days: the sample refresh token on this page carries exp − iat = 604,800 s; no sentence on NetSuite's pages states a confidential client's refresh token lifetime",
    },
  ],
  docs: [STEP_ONE, STEP_TWO, REFRESH],
};
