import type { CatalogueEntry } from './entry';

export const airtable: CatalogueEntry = {
  id: 'airtable',
  name: 'Airtable',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://airtable.com/oauth2/v1/authorize',
  tokenUrl: 'https://airtable.com/oauth2/v1/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256', // required by Airtable
  accessTokenSeconds: 3600,
  // Single use, 60 days; each answer says the refresh token's life in refresh_expires_in.
  refreshTokenExpiresInField: 'refresh_expires_in',
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 60 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://airtable.com/developers/web/api/oauth-reference',
      unverified: 'single use, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://airtable.com/developers/web/api/oauth-reference',
      unverified:
        "60 days, from the first catalogue brief; the answer's refresh_expires_in (the field name third-party copies of the reference show) says it for each token",
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://airtable.com/developers/web/api/oauth-reference',
      unverified: 'one hour, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://airtable.com/developers/web/api/oauth-reference',
      unverified:
        'HTTP Basic for integrations with a client secret, from the first catalogue brief; not re-read',
    },
    {
      rule: 'pkce',
      url: 'https://airtable.com/developers/web/api/oauth-reference',
      quote: 'The string "S256".',
    },
  ],
  docs: ['https://airtable.com/developers/web/api/oauth-reference'],
};
