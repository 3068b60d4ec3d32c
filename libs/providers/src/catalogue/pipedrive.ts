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
  // Each refresh answer carries a refresh token; whether the old one keeps working is not
  // documented, so the strict reading (single use) is taken. 60 days unused.
  refreshToken: { rotation: 'single_use', idleSeconds: 60 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
      unverified:
        'every refresh answer carries a refresh_token; whether the old one stays valid is not documented: the broker and the sandbox take the strict reading (single use)',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
      unverified:
        '"Expires if not used in 60 days", as third-party copies of the refresh answer\'s field table quote it; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
      unverified: 'expires_in 3599/3600 in the example answers; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
      unverified:
        '"Basic <base64(client_id:client_secret)>", as the API reference\'s header description reads in copies; not re-read',
    },
  ],
  docs: [
    'https://pipedrive.readme.io/docs/marketplace-oauth-authorization',
    'https://developers.pipedrive.com/docs/api/v1/Oauth',
  ],
};
