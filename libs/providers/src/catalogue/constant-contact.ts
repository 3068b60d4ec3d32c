import type { CatalogueEntry } from './entry';

const SCOPES = 'https://developer.constantcontact.com/api_guide/scopes.html';
const OVERVIEW = 'https://developer.constantcontact.com/api_guide/auth_overview.html';
const SERVER_FLOW = 'https://developer.constantcontact.com/api_guide/server_flow.html';
const SUPPORT =
  'https://community.constantcontact.com/t5/API-Developer-Support/Refresh-token-expiry/td-p/402882';

/**
 * Constant Contact V3 (authorization server authz.constantcontact.com). A refresh token comes only
 * with `offline_access`. An application picks rotating or long-lived refresh tokens in its settings;
 * the entry follows the recommended rotating kind, each token usable once.
 */
export const constantContact: CatalogueEntry = {
  id: 'constant-contact',
  name: 'Constant Contact',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://authz.constantcontact.com/oauth2/default/v1/authorize',
  tokenUrl: 'https://authz.constantcontact.com/oauth2/default/v1/token',
  tokenAuthMethod: 'client_secret_basic',
  defaultScopes: ['contact_data'],
  allowedScopes: ['account_read', 'account_update', 'contact_data', 'campaign_data', 'offline_access'],
  refreshEarning: { scopes: ['offline_access'] },
  accessTokenSeconds: 86_400,
  refreshToken: { rotation: 'single_use', idleSeconds: 180 * 86_400 },
  sources: [
    {
      rule: 'refreshEarning',
      url: SCOPES,
      quote:
        'Authorization Refresh Token Endpoint | https://authz.constantcontact.com/oauth2/default/v1/token | offline_access',
    },
    {
      rule: 'clientAuth',
      url: OVERVIEW,
      quote:
        'The client_id and client_secret (client_id:secret) are base64 encoded and the resulting hash is used in the authorization header for calls made to the Authorization Server.',
    },
    {
      // Constant Contact's API developer support, on its own community site.
      rule: 'rotation',
      url: SUPPORT,
      quote:
        'Rotating refresh tokens can only be used once, and generating a new set of tokens causes all previous refresh tokens to expire, so each time you refresh the access token you will get a new refresh token value as well.',
    },
    {
      rule: 'refreshTokenIdle',
      url: SUPPORT,
      quote:
        'Both types of refresh tokens must be used within 180 days of generation, after which they will expire.',
    },
    {
      rule: 'accessTokenLifetime',
      url: SUPPORT,
      quote:
        'When using the new OAuth2 flows that are available for V3 using our recently implemented authorization management service, the access token lifetime is now a static 24 hours, and you have the option of using rotating refresh tokens or long lived refresh tokens.',
    },
  ],
  docs: [OVERVIEW, SERVER_FLOW, SCOPES, SUPPORT],
};
