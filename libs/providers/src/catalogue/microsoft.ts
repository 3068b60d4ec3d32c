import type { CatalogueEntry } from './entry';

export const microsoft: CatalogueEntry = {
  id: 'microsoft',
  name: 'Microsoft identity platform',
  grantTypes: ['authorization_code', 'client_credentials'],
  authorizationUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
  tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  defaultScopes: ['User.Read'],
  // offline_access is the scope that yields a refresh token.
  refreshEarning: { scopes: ['offline_access'] },
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
  sources: [
    {
      rule: 'rotation',
      url: 'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
      quote:
        "Refresh tokens replace themselves with a fresh token upon every use. The Microsoft identity platform doesn't revoke old refresh tokens",
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
      quote:
        'The default lifetime for the refresh tokens is 24 hours for single page apps and 90 days for all other scenarios.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens',
      unverified: '"60-90 minutes", from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
      unverified: "client_secret in the form body as the page's request examples show; not re-read",
    },
    {
      rule: 'pkce',
      url: 'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
      unverified: 'code_challenge_method S256 as the page documents; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://learn.microsoft.com/en-us/answers/questions/806413/scope-34offline-access34-isn39t-being-returned-in.html',
      quote: 'The offline_access scope is used to request for Refresh Token',
    },
  ],
  docs: [
    'https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow',
    'https://learn.microsoft.com/en-us/entra/identity-platform/refresh-tokens',
  ],
};
