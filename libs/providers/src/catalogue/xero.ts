import type { CatalogueEntry } from './entry';

export const xero: CatalogueEntry = {
  id: 'xero',
  name: 'Xero',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
  tokenUrl: 'https://identity.xero.com/connect/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  defaultScopes: ['offline_access'],
  accessTokenSeconds: 1800,
  // "you can retry refreshing your existing refresh token for a grace period of 30 minutes";
  // "Unused refresh tokens expire after 60 days".
  refreshToken: { rotation: 'grace', graceSeconds: 1800, idleSeconds: 60 * 86_400 },
  sources: [],
  docs: [
    'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
    'https://developer.xero.com/faq/oauth2',
  ],
};
