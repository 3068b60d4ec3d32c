import type { CatalogueEntry } from './entry';

export const pipedrive: CatalogueEntry = {
  id: 'pipedrive',
  name: 'Pipedrive',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://oauth.pipedrive.com/oauth/authorize',
  tokenUrl: 'https://oauth.pipedrive.com/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  metadata: { tokenResponse: ['api_domain'], callback: [] },
  accessTokenSeconds: 3600,
  // 60 days unused (from the catalogue brief, not re-verified).
  refreshToken: { rotation: 'rotating', idleSeconds: 60 * 86_400 },
  sources: [],
  docs: [
    'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
    'https://developers.pipedrive.com/docs/api/v1/Oauth',
  ],
};
