import type { ProviderProfile } from '../profile';

/** Canva Connect: PKCE with S256, single-use refresh tokens; reuse revokes the token's whole lineage. */
export const canva: ProviderProfile = {
  id: 'canva',
  name: 'Canva',
  docs: [
    'https://www.canva.dev/docs/connect/authentication/',
    'https://www.canva.dev/docs/connect/api-reference/authentication/generate-access-token/',
    'https://www.canva.dev/docs/connect/api-reference/authentication/revoke-token/',
  ],
  clientAuthentication: 'basic-or-post',
  grantTypes: ['authorization_code'],
  pkce: 'required',
  scopes: { separator: ' ', required: true },
  accessToken: { ttlSeconds: 14400, reportsExpiresIn: true, tokenType: 'Bearer' },
  refreshToken: { rotation: 'lineage' },
  answerShape: 'oauth',
};
