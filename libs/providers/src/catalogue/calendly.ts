import type { CatalogueEntry } from './entry';

const TOKEN = 'https://developer.calendly.com/api-docs/calendly-o-auth/o-auth/post-oauth-refresh-token';
const ROTATION = 'https://developer.calendly.com/refresh-token-rotation-guide';
const APP = 'https://developer.calendly.com/creating-an-oauth-app';
const ACCESS = 'https://developer.calendly.com/how-to-access-calendly-data-on-behalf-of-authenticated-users';

/**
 * Calendly: single-use refresh tokens with rotation (OAuth 2.1); a refresh token does not expire
 * until it is used. The token answer names the user (`owner`) and the `organization`.
 */
export const calendly: CatalogueEntry = {
  id: 'calendly',
  name: 'Calendly',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://auth.calendly.com/oauth/authorize',
  tokenUrl: 'https://auth.calendly.com/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  metadata: { tokenResponse: ['owner', 'organization'], callback: [] },
  accessTokenSeconds: 7200,
  refreshToken: { rotation: 'single_use' },
  sources: [
    {
      rule: 'rotation',
      url: ROTATION,
      quote: 'A refresh token is revoked immediately after a successful POST /oauth/token call.',
    },
    { rule: 'accessTokenLifetime', url: TOKEN, quote: 'Access Tokens expire after 2 hours.' },
    {
      rule: 'clientAuth',
      url: TOKEN,
      quote: 'Web clients: pass client_id and client_secret via Basic HTTP Authorization header',
    },
    {
      rule: 'pkce',
      url: APP,
      quote:
        'For all OAuth applications (web or native) use a specific redirect_uri, a Proof Key for Code Exchange (PKCE), and S256 for code_challenge_method.',
    },
    { rule: 'refreshEarning', url: ACCESS, quote: 'Use a refresh token to get a new access token.' },
  ],
  docs: [ACCESS, TOKEN, ROTATION, APP],
};
