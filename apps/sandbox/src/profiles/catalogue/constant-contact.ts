import type { ProviderProfile } from '../profile';

/** Constant Contact V3: a refresh token only with offline_access; rotating refresh tokens work once, 180 days unused. */
export const constantContact: ProviderProfile = {
  id: 'constant-contact',
  name: 'Constant Contact',
  docs: [
    'https://developer.constantcontact.com/api_guide/auth_overview.html',
    'https://developer.constantcontact.com/api_guide/server_flow.html',
    'https://developer.constantcontact.com/api_guide/scopes.html',
    'https://community.constantcontact.com/t5/API-Developer-Support/Refresh-token-expiry/td-p/402882',
  ],
  // "The client_id and client_secret (client_id:secret) are base64 encoded and the resulting hash is used in the authorization header"
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: {
    separator: ' ',
    required: true,
    known: ['account_read', 'account_update', 'contact_data', 'campaign_data', 'offline_access'],
  },
  // The refresh token endpoint requires the offline_access scope.
  refreshTokenIssuance: { scope: 'offline_access' },
  accessToken: { ttlSeconds: 86400, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "Rotating refresh tokens can only be used once"; "must be used within 180 days of generation".
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 180 * 86400 },
  answerShape: 'oauth',
};
