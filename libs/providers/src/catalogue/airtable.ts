import type { CatalogueEntry } from './entry';

export const airtable: CatalogueEntry = {
  id: 'airtable',
  name: 'Airtable',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://airtable.com/oauth2/v1/authorize',
  tokenUrl: 'https://airtable.com/oauth2/v1/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256', // required by Airtable
  accessTokenSeconds: 3600,
  // Single use, 60 days (refresh_token_expires_in is in the answer) - from the catalogue brief.
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 60 * 86_400 },
  sources: [],
  docs: ['https://airtable.com/developers/web/api/oauth-reference'],
};
