import type { ProviderProfile } from '../profile';

/** Atlassian Cloud OAuth 2.0 (3LO) with rotating refresh tokens. */
export const atlassian: ProviderProfile = {
  id: 'atlassian',
  name: 'Atlassian',
  docs: [
    'https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/',
    'https://developer.atlassian.com/cloud/oauth/getting-started/refresh-tokens',
    'https://community.developer.atlassian.com/t/updated-31-january-2022-action-required-deprecating-persistent-refresh-tokens/54172',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ' ', required: true },
  requiredAuthorizationParams: { audience: 'api.atlassian.com', prompt: 'consent' },
  refreshTokenIssuance: { scope: 'offline_access' },
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'Bearer' },
  // "Reuse of old tokens outside the leeway interval invalidates all refresh tokens ... The leeway interval
  // is 10 minutes"; 90 days of inactivity, 365 days absolute.
  refreshToken: {
    rotation: 'grace',
    graceSeconds: 600,
    revokeGrantOnLateReuse: true,
    // The access token the refresh replaced is revoked once the reuse interval is over.
    endsEarlierAccessTokensAfterGrace: true,
    unusedTtlSeconds: 90 * 86400,
    absoluteTtlSeconds: 365 * 86400,
  },
  answerShape: 'oauth',
};
