import type { CatalogueEntry } from './entry';

export const x: CatalogueEntry = {
  id: 'x',
  name: 'X (Twitter)',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://x.com/i/oauth2/authorize',
  tokenUrl: 'https://api.x.com/2/oauth2/token',
  // Confidential clients authenticate with HTTP Basic.
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  // offline.access is the scope that yields a refresh token.
  defaultScopes: ['tweet.read', 'users.read', 'offline.access'],
  // "only stay valid for two hours"; a refresh token only with offline.access. That each refresh
  // returns a new refresh token and ends the old one is from the catalogue brief, not re-verified.
  accessTokenSeconds: 7200,
  refreshToken: { rotation: 'single_use' },
  sources: [],
  docs: ['https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code'],
};
