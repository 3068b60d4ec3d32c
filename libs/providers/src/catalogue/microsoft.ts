import type { CatalogueEntry } from './entry';

export const microsoft: CatalogueEntry = {
  id: 'microsoft',
  name: 'Microsoft identity platform',
  grantTypes: ['authorization_code', 'client_credentials'],
  authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
  tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  // offline_access is the scope that yields a refresh token.
  defaultScopes: ['offline_access', 'User.Read'],
  config: [
    {
      name: 'tenant',
      pattern: '[A-Za-z0-9][A-Za-z0-9.-]{0,253}',
      description: '"common", "organizations", "consumers", a tenant id (GUID) or a verified domain',
    },
  ],
  accessTokenSeconds: 3600, // documented as 60–90 minutes, random within that range
  // "Refresh tokens replace themselves with a fresh token upon every use. The Microsoft identity
  // platform doesn't revoke old refresh tokens": rotating, old still valid; 90 days (24 h for SPAs).
  refreshToken: { rotation: 'rotating', idleSeconds: 90 * 86_400 },
  sources: [],
  docs: [
    'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  ],
};
