import type { CatalogueEntry } from './entry';

export const atlassian: CatalogueEntry = {
  id: 'atlassian',
  name: 'Atlassian (Jira, Confluence)',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://auth.atlassian.com/authorize',
  tokenUrl: 'https://auth.atlassian.com/oauth/token',
  tokenAuthMethod: 'client_secret_post',
  authorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
  refreshEarning: { scopes: ['offline_access'] },
  accessTokenSeconds: 3600,
  // Rotating refresh tokens: a new one on each use; the old one is accepted again within the
  // 10-minute reuse interval, and a reuse after it invalidates every refresh token of the grant.
  // 90 days of inactivity, 365 days absolute.
  refreshToken: {
    rotation: 'grace',
    graceSeconds: 600,
    idleSeconds: 90 * 86_400,
    lifetimeSeconds: 365 * 86_400,
  },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
      quote: 'Refresh tokens are implemented using rotating refresh tokens.',
    },
    {
      rule: 'graceSeconds',
      url: 'https://community.developer.atlassian.com/t/updated-31-january-2022-action-required-deprecating-persistent-refresh-tokens/54172',
      unverified:
        'the 10-minute reuse ("leeway") interval of Atlassian\'s announcement, as the sandbox profile quotes it; not re-read',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
      unverified: '90 days of inactivity, from the first catalogue brief and the announcement; not re-read',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
      unverified: '365 days absolute, from the first catalogue brief and the announcement; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
      unverified: "expires_in 3600 in the page's example answer; not re-read",
    },
    {
      rule: 'clientAuth',
      url: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
      quote: 'client_secret: (required) Set this to the Secret for your app.',
    },
    {
      rule: 'refreshEarning',
      url: 'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
      quote:
        'To get a refresh token in your initial authorization flow, add offline_access to the scope parameter of the authorization URL.',
    },
  ],
  docs: [
    'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
  ],
};
