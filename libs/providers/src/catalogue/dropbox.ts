import type { CatalogueEntry } from './entry';

export const dropbox: CatalogueEntry = {
  id: 'dropbox',
  name: 'Dropbox',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://www.dropbox.com/oauth2/authorize',
  tokenUrl: 'https://api.dropboxapi.com/oauth2/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  // Without token_access_type=offline Dropbox issues no refresh token.
  authorizationParams: { token_access_type: 'offline' },
  metadata: { tokenResponse: ['account_id', 'team_id'], callback: [] },
  accessTokenSeconds: 14_400,
  // Long-lived, not rotated: refresh answers carry no refresh_token.
  refreshToken: { rotation: 'none' },
  sources: [],
  docs: [
    'https://developers.dropbox.com/oauth-guide',
    'https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token',
  ],
};
