import type { ProviderProfile } from '../profile';

/** Pipedrive OAuth: the answer names the company's API domain. */
export const pipedrive: ProviderProfile = {
  id: 'pipedrive',
  name: 'Pipedrive',
  docs: ['https://pipedrive.readme.io/docs/marketplace-oauth-authorization'],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ' },
  accessToken: { ttlSeconds: 3599, reportsExpiresIn: true, tokenType: 'Bearer' },
  // The refresh token expires after 60 days unused.
  refreshToken: { rotation: 'none', refreshAnswer: 'same', unusedTtlSeconds: 60 * 86400 },
  answerShape: 'oauth',
  tokenAnswerExtras: { api_domain: '{sandbox}/pipedrive/api/company-{accountId}' },
};
