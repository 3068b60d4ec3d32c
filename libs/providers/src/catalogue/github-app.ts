import type { CatalogueEntry } from './entry';

export const githubApp: CatalogueEntry = {
  id: 'github-app',
  name: 'GitHub App (user access tokens)',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://github.com/login/oauth/authorize',
  tokenUrl: 'https://github.com/login/oauth/access_token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  // A GitHub App's permissions come from its registration: no scopes.
  allowedScopes: [],
  // 8 hours; the refresh token lives 6 months (refresh_token_expires_in) and is single-use.
  accessTokenSeconds: 28_800,
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 15_897_600 },
  // Errors come as HTTP 200 with `error` in the body.
  errorCodes: {
    bad_verification_code: 'invalid_grant',
    bad_refresh_token: 'invalid_grant',
    incorrect_client_credentials: 'invalid_client',
    redirect_uri_mismatch: 'invalid_request',
  },
  sources: [
    {
      rule: 'rotation',
      url: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
      quote:
        'Once you use a refresh token, that refresh token and the old user access token will no longer work.',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
      quote:
        'The user access token expires after eight hours, and the refresh token expires after six months.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
      quote:
        'The user access token expires after eight hours, and the refresh token expires after six months.',
    },
    {
      rule: 'clientAuth',
      url: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
      unverified:
        "client_id and client_secret as parameters of the POST, as the page's table lists them; not re-read",
    },
    {
      rule: 'pkce',
      url: 'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app',
      unverified: 'code_challenge (S256) accepted, from the first catalogue brief; not re-read',
    },
  ],
  docs: [
    'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app',
    'https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens',
  ],
};
