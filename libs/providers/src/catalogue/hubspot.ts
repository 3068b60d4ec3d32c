import type { CatalogueEntry } from './entry';

export const hubspot: CatalogueEntry = {
  id: 'hubspot',
  name: 'HubSpot',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
  tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 1800,
  // The refresh token does not change and does not expire (until the app is uninstalled).
  refreshToken: { rotation: 'none' },
  sources: [],
  docs: ['https://developers.hubspot.com/docs/api/oauth-quickstart-guide'],
};
