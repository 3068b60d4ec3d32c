import type { CatalogueEntry } from './entry';

export const google: CatalogueEntry = {
  id: 'google',
  name: 'Google',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  // access_type=offline is what yields a refresh token; prompt=consent makes Google issue one again
  // on a re-authorization (it sends one only at the first consent otherwise).
  authorizationParams: { access_type: 'offline', prompt: 'consent' },
  accessTokenSeconds: 3600,
  // Refresh answers carry no refresh_token: the first one stays. It expires after six months unused.
  refreshToken: { rotation: 'none', idleSeconds: 182 * 86_400 },
  sources: [],
  docs: [
    'https://developers.google.com/identity/protocols/oauth2/web-server',
    'https://developers.google.com/identity/protocols/oauth2#expiration',
  ],
};
