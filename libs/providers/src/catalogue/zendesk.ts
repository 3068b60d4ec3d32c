import type { CatalogueEntry } from './entry';

export const zendesk: CatalogueEntry = {
  id: 'zendesk',
  name: 'Zendesk',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
  tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  defaultScopes: ['read', 'write'],
  config: [
    {
      name: 'subdomain',
      pattern: '[a-z0-9][a-z0-9-]{0,62}',
      description: 'the account\'s subdomain: "acme" for acme.zendesk.com',
    },
  ],
  // Refresh tokens (with expires_in on the access token) are Zendesk's newer, opt-in scheme; the
  // rotation rule is not re-verified: treated as a new refresh token on each use.
  refreshToken: { rotation: 'rotating' },
  docs: [
    'https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/',
  ],
};
