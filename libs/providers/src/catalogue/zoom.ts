import { COMMA, type CatalogueEntry } from './entry';

export const zoom: CatalogueEntry = {
  id: 'zoom',
  name: 'Zoom',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://zoom.us/oauth/authorize',
  tokenUrl: 'https://zoom.us/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  // Zoom apps usually get their scopes from the app's registration; when sent, comma-separated
  // as the catalogue brief has it (not re-verified against Zoom's docs).
  scopeSeparator: COMMA,
  accessTokenSeconds: 3600,
  // Each refresh returns a new refresh token and only the latest one works; a refresh token
  // expires 15 years after issue (Zoom developer support), not after 90 days.
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 15 * 365 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://devsupport.zoom.us/hc/en-us/articles/360060332931-Extending-the-expiration-for-an-OAuth-access-token',
      quote:
        "If you use an prior refresh token to make a Refresh Request, you will receive an 'Invalid Token!' error message.",
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://devsupport.zoom.us/hc/en-us/articles/360060332931-Extending-the-expiration-for-an-OAuth-access-token',
      quote:
        'Refresh tokens expire after 15 years, however, the latest refresh token must always be used for the next refresh request.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://devsupport.zoom.us/hc/en-us/articles/360060332931-Extending-the-expiration-for-an-OAuth-access-token',
      quote: "The OAuth Access Token's 1 hour expiration cannot be extended.",
    },
    {
      rule: 'clientAuth',
      url: 'https://devsupport.zoom.us/hc/en-us/articles/360060332931-Extending-the-expiration-for-an-OAuth-access-token',
      quote:
        "The string 'Basic' with your Client ID and Client Secret with a colon : in between, Base64 Encoded.",
    },
    {
      rule: 'pkce',
      url: 'https://developers.zoom.us/docs/integrations/oauth/',
      unverified: 'Zoom accepts code_challenge (S256), from the first catalogue brief; not re-read',
    },
  ],
  docs: ['https://developers.zoom.us/docs/integrations/oauth/'],
};
