import type { CatalogueEntry } from './entry';

const GUIDE = 'https://www.freshbooks.com/api/get-authenticated-on-the-freshbooks-api';
const AUTH = 'https://www.freshbooks.com/developers/authentication';

/**
 * FreshBooks: 12-hour access tokens; a refresh token never expires but works once, each refresh
 * returning the next one. FreshBooks' own SDK also sends redirect_uri when refreshing; the broker
 * does not (the page does not say it is required).
 */
export const freshbooks: CatalogueEntry = {
  id: 'freshbooks',
  name: 'FreshBooks',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://auth.freshbooks.com/oauth/authorize',
  tokenUrl: 'https://api.freshbooks.com/auth/oauth/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 12 * 3600,
  refreshToken: { rotation: 'single_use' },
  sources: [
    {
      rule: 'rotation',
      url: GUIDE,
      quote:
        'The Access Token expires after 12 hours, however the Authorization Response also contains a Refresh Token (which never expires, but can only be used once) that can be used to request a new Access Token (and a new Refresh Token for the next refresh request)',
    },
    {
      rule: 'accessTokenLifetime',
      url: AUTH,
      quote: 'This method creates a token that lasts for 12 hours to keep your account secure and connected.',
    },
    {
      rule: 'clientAuth',
      url: AUTH,
      quote:
        'You send us a request from your server containing the authorization code, your client id, client secret, and the redirect URI the user followed',
    },
    {
      rule: 'refreshEarning',
      url: AUTH,
      quote:
        'We return to you a pair of tokens, an access token (called a Bearer token) and a refresh token (used to get a new access token when it expires).',
    },
  ],
  docs: [AUTH, GUIDE],
};
