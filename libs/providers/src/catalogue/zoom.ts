import { COMMA, type CatalogueEntry } from './entry';

export const zoom: CatalogueEntry = {
  id: 'zoom',
  name: 'Zoom',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://zoom.us/oauth/authorize',
  tokenUrl: 'https://zoom.us/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  // Zoom apps usually get their scopes from the app's registration; when sent, comma-separated
  // as the catalogue brief has it (not re-verified against Zoom's docs).
  scopeSeparator: COMMA,
  accessTokenSeconds: 3600,
  // Each refresh returns a new refresh token and the old one stops working; about 90 days for
  // user-authorized apps (Zoom calls it changeable behaviour).
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 90 * 86_400 },
  sources: [],
  docs: ['https://developers.zoom.us/docs/integrations/oauth/'],
};
