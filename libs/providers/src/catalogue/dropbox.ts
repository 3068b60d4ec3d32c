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
  refreshEarning: { authorizationParams: { token_access_type: 'offline' } },
  metadata: { tokenResponse: ['account_id', 'team_id'], callback: [] },
  accessTokenSeconds: 14_400,
  // Long-lived, not rotated: refresh answers carry no refresh_token.
  refreshToken: { rotation: 'none' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developers.dropbox.com/oauth-guide',
      unverified:
        'long-lived refresh token, refresh answers without refresh_token, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developers.dropbox.com/oauth-guide',
      unverified: 'short-lived tokens of four hours, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token',
      unverified: 'HTTP Basic (or form) client authentication, from the first catalogue brief; not re-read',
    },
    {
      rule: 'pkce',
      url: 'https://developers.dropbox.com/oauth-guide',
      unverified: 'PKCE with S256, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://developers.dropbox.com/oauth-guide',
      unverified:
        'token_access_type=offline yields a refresh token, from the first catalogue brief; not re-read',
    },
  ],
  docs: [
    'https://developers.dropbox.com/oauth-guide',
    'https://www.dropbox.com/developers/documentation/http/documentation#oauth2-token',
  ],
};
