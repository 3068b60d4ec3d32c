import type { CatalogueEntry } from './entry';

export const xero: CatalogueEntry = {
  id: 'xero',
  name: 'Xero',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://login.xero.com/identity/connect/authorize',
  tokenUrl: 'https://identity.xero.com/connect/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  refreshEarning: { scopes: ['offline_access'] },
  accessTokenSeconds: 1800,
  // "you can retry refreshing your existing refresh token for a grace period of 30 minutes";
  // "Unused refresh tokens expire after 60 days".
  refreshToken: { rotation: 'grace', graceSeconds: 1800, idleSeconds: 60 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developer.xero.com/faq/oauth2',
      quote: 'you can retry refreshing your existing refresh token for a grace period of 30 minutes',
    },
    {
      rule: 'graceSeconds',
      url: 'https://developer.xero.com/faq/oauth2',
      quote: 'you can retry refreshing your existing refresh token for a grace period of 30 minutes',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://developer.xero.com/faq/oauth2',
      quote: 'Unused refresh tokens expire after 60 days',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
      unverified: '30 minutes, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
      unverified:
        '"authorization: Basic" with the client id and secret, as the page\'s examples show; not re-read',
    },
    {
      rule: 'pkce',
      url: 'https://developer.xero.com/documentation/guides/oauth2/pkce-flow',
      unverified: 'Xero documents a PKCE flow (S256); not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
      unverified:
        'offline_access is the scope that yields a refresh token, from the first catalogue brief; not re-read',
    },
  ],
  docs: [
    'https://developer.xero.com/documentation/guides/oauth2/auth-flow',
    'https://developer.xero.com/faq/oauth2',
  ],
};
