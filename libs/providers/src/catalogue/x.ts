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
  defaultScopes: ['tweet.read', 'users.read'],
  // offline.access is the scope that yields a refresh token.
  refreshEarning: { scopes: ['offline.access'] },
  // "only stay valid for two hours"; a refresh token only with offline.access. That each refresh
  // returns a new refresh token and ends the old one is from the catalogue brief, not re-verified.
  accessTokenSeconds: 7200,
  refreshToken: { rotation: 'single_use' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
      unverified:
        'each refresh returns a new refresh token and ends the old one, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
      quote:
        'By default, the access token you create through the Authorization Code Flow with PKCE will only stay valid for two hours unless you’ve used the offline.access scope.',
    },
    {
      rule: 'clientAuth',
      url: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
      unverified: 'confidential clients send HTTP Basic, from the first catalogue brief; not re-read',
    },
    {
      rule: 'pkce',
      url: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
      unverified: 'PKCE required, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code',
      quote: 'If the scope offline.access is applied an OAuth 2.0 refresh token will be issued.',
    },
  ],
  docs: ['https://docs.x.com/fundamentals/authentication/oauth-2-0/authorization-code'],
};
