import type { ProviderProfile } from '../profile';

/**
 * Oracle NetSuite, one host per account: client credentials in HTTP Basic only; a confidential client's
 * refresh answer carries no refresh token, and the one it has dies seven days after the grant.
 */
export const netsuite: ProviderProfile = {
  id: 'netsuite',
  name: 'Oracle NetSuite',
  docs: [
    'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158081944642.html',
    'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158081952044.html',
    'https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_160855594402.html',
  ],
  host: { name: 'accountId', pattern: '^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$' },
  // "The request must include client credentials in the HTTP authorization request header"
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  // Optional for a confidential client; NetSuite refuses method "plain", which the engine still accepts.
  pkce: 'supported',
  scopes: {
    separator: ' ',
    required: true,
    known: ['restlets', 'rest_webservices', 'suite_analytics', 'mcp'],
  },
  // "The value of expires_in parameter is always 3600." "The value of the token_type parameter is always bearer."
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'bearer' },
  // Seven days from the grant: the sample refresh token's exp − iat on the refresh page (no sentence says it).
  refreshToken: { rotation: 'none', refreshAnswer: 'omitted', absoluteTtlSeconds: 7 * 86400 },
  answerShape: 'oauth',
  callbackExtras: { company: '{host}', role: '3', entity: '4622' },
};
