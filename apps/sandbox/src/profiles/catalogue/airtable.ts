import type { ProviderProfile } from '../profile';

/** Airtable OAuth: PKCE with S256 required, single-use refresh tokens valid 60 days. */
export const airtable: ProviderProfile = {
  id: 'airtable',
  name: 'Airtable',
  docs: ['https://airtable.com/developers/web/api/oauth-reference'],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'required',
  scopes: { separator: ' ', required: true },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'Bearer' },
  refreshToken: {
    rotation: 'single-use',
    unusedTtlSeconds: 60 * 86400,
    expiresInField: 'refresh_expires_in',
  },
  answerShape: 'oauth',
};
