import type { CatalogueEntry } from './entry';

export const atlassian: CatalogueEntry = {
  id: 'atlassian',
  name: 'Atlassian (Jira, Confluence)',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://auth.atlassian.com/authorize',
  tokenUrl: 'https://auth.atlassian.com/oauth/token',
  tokenAuthMethod: 'client_secret_post',
  authorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
  defaultScopes: ['offline_access'],
  accessTokenSeconds: 3600,
  // Rotating refresh tokens: a new one on each use. The 90-day inactivity expiry (and 365-day
  // absolute one) and the short reuse window are from the catalogue brief, not re-verified.
  refreshToken: { rotation: 'grace', graceSeconds: 600, idleSeconds: 90 * 86_400 },
  sources: [],
  docs: [
    'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
  ],
};
