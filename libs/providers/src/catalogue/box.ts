import type { CatalogueEntry } from './entry';

export const box: CatalogueEntry = {
  id: 'box',
  name: 'Box',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
  tokenUrl: 'https://api.box.com/oauth2/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 3600,
  // "A Refresh Token is valid for 60 days and can be used to obtain a new Access Token and Refresh
  // Token only once."
  refreshToken: { rotation: 'single_use', idleSeconds: 60 * 86_400 },
  sources: [],
  docs: [
    'https://developer.box.com/guides/authentication/oauth2/',
    'https://developer.box.com/guides/authentication/tokens/refresh',
  ],
};
