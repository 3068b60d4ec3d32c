import type { CatalogueEntry } from './entry';

export const box: CatalogueEntry = {
  id: 'box',
  name: 'Box',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://account.box.com/api/oauth2/authorize',
  tokenUrl: 'https://api.box.com/oauth2/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 3600,
  // "A Refresh Token is valid for 60 days and can be used to obtain a new Access Token and Refresh
  // Token only once." (Box's staff say a spent one still works until its replacement is used; the
  // broker never relies on that.)
  refreshToken: { rotation: 'single_use', idleSeconds: 60 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developer.box.com/guides/authentication/tokens/refresh',
      quote:
        'A Refresh Token is valid for 60 days and can be used to obtain a new Access Token and Refresh Token only once.',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://developer.box.com/guides/authentication/tokens/refresh',
      quote:
        'If the Access Token and Refresh Token are not refreshed within 60 days, the user will need to be re-authorized.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developer.box.com/guides/authentication/oauth2/',
      unverified: "expires_in 3600 in the reference's example answer; not re-read",
    },
    {
      rule: 'clientAuth',
      url: 'https://developer.box.com/guides/authentication/tokens/refresh',
      unverified: "client_id and client_secret in the form body, as the page's curl example sends them",
    },
  ],
  docs: [
    'https://developer.box.com/guides/authentication/oauth2/',
    'https://developer.box.com/guides/authentication/tokens/refresh',
  ],
};
