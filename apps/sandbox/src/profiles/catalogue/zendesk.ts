import type { ProviderProfile } from '../profile';

/** Zendesk OAuth with refresh tokens, one subdomain per connection. */
export const zendesk: ProviderProfile = {
  id: 'zendesk',
  name: 'Zendesk',
  docs: [
    'https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/',
    'https://developer.zendesk.com/api-reference/ticketing/oauth/grant_type_tokens/',
    'https://support.zendesk.com/hc/en-us/articles/9182123625370',
    'https://support.zendesk.com/hc/en-us/articles/10212201463962',
  ],
  host: { name: 'subdomain', pattern: '^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$' },
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ', required: true },
  // A client created before Zendesk's refresh token support gets a non-expiring access token and no
  // refresh token unless the token request sends expires_in: the profile is such a client.
  refreshTokenIssuance: { exchangeParams: { expires_in: '1800' } },
  // Access tokens default to 30 minutes.
  accessToken: { ttlSeconds: 1800, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: {
    rotation: 'single-use',
    unusedTtlSeconds: 30 * 86400,
    expiresInField: 'refresh_token_expires_in',
  },
  answerShape: 'oauth',
};
