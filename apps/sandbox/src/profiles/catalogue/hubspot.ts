import type { ProviderProfile } from '../profile';

/** HubSpot OAuth: access tokens of 30 minutes, a refresh token that does not change or expire. */
export const hubspot: ProviderProfile = {
  id: 'hubspot',
  name: 'HubSpot',
  docs: [
    'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
    'https://developers.hubspot.com/docs/api/oauth/tokens',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ', required: true },
  accessToken: { ttlSeconds: 1800, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: { rotation: 'none', refreshAnswer: 'same' },
  answerShape: 'oauth',
};
