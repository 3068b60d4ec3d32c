import type { ProviderProfile } from '../profile';

/** Microsoft identity platform (Entra ID), v2.0 endpoints of a tenant. */
export const microsoft: ProviderProfile = {
  id: 'microsoft',
  name: 'Microsoft',
  docs: [
    'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  ],
  host: {
    name: 'tenant',
    pattern:
      '^(common|organizations|consumers|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)+)$',
  },
  clientAuthentication: 'post',
  grantTypes: ['authorization_code', 'client_credentials'],
  pkce: 'supported',
  scopes: { separator: ' ', required: true },
  refreshTokenIssuance: { scope: 'offline_access' },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'Bearer' },
  // Refresh tokens are replaced on use, the old one is not revoked; 90 days of inactivity ends them.
  refreshToken: { rotation: 'keep-old', unusedTtlSeconds: 90 * 86400 },
  answerShape: 'oauth',
  tokenAnswerExtras: { ext_expires_in: 3600 },
};
