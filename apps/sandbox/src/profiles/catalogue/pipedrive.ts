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
  // Every refresh answer carries a refresh_token, which "expires if not used in 60 days"; whether the
  // old one stays valid is not documented, so the profile takes the strict reading: a new one each
  // time, the old one dead once used.
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 60 * 86400 },
  answerShape: 'oauth',
  tokenAnswerExtras: { api_domain: '{sandbox}/pipedrive/api/company-{accountId}' },
};
