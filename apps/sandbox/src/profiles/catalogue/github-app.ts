import type { ProviderProfile } from '../profile';

/** GitHub App user access tokens that expire (the default for new apps). */
export const githubApp: ProviderProfile = {
  id: 'github-app',
  name: 'GitHub App',
  docs: [
    'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app',
    'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  // GitHub Apps have permissions, not scopes: the scope parameter is ignored and scope comes back empty.
  scopes: { separator: ' ', known: [] },
  accessToken: { ttlSeconds: 28800, reportsExpiresIn: true, tokenType: 'bearer' },
  // "Once you use a refresh token, that refresh token and the old user access token will no longer work."
  refreshToken: {
    rotation: 'single-use',
    unusedTtlSeconds: 15897600,
    absoluteTtlSeconds: 15897600,
    expiresInField: 'refresh_token_expires_in',
    revokesEarlierAccessTokens: true,
  },
  answerShape: 'github',
};
