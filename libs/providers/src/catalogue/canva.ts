import type { CatalogueEntry } from './entry';

export const canva: CatalogueEntry = {
  id: 'canva',
  name: 'Canva Connect',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://www.canva.com/api/oauth/authorize',
  tokenUrl: 'https://api.canva.com/rest/v1/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  // "Authorization Code flow with Proof Key for Code Exchange (PKCE) using SHA-256": required.
  pkce: 'S256',
  accessTokenSeconds: 14_400,
  // Single use; revoking a refresh token revokes its whole lineage.
  refreshToken: { rotation: 'single_use' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/',
      unverified:
        'single use; replaying a spent one revokes the lineage, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/',
      quote:
        'The expiry time (currently 4 hours) is shown in the endpoint response and is subject to change.',
    },
    {
      rule: 'clientAuth',
      url: 'https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/',
      quote: 'Basic access authentication (Recommended)',
    },
    {
      rule: 'pkce',
      url: 'https://www.canva.dev/docs/connect/authentication/',
      quote: 'Authorization Code flow with Proof Key for Code Exchange (PKCE) using SHA-256',
    },
  ],
  docs: [
    'https://www.canva.dev/docs/connect/authentication/',
    'https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/',
  ],
};
