import type { CatalogueEntry } from './entry';

const OAUTH = 'https://developers.asana.com/docs/oauth';

/**
 * Asana: one-hour access tokens; the refresh token from the code exchange is long-lived and used
 * again on every refresh. The token answer's `data` names the user (id, gid, name, email).
 */
export const asana: CatalogueEntry = {
  id: 'asana',
  name: 'Asana',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://app.asana.com/-/oauth_authorize',
  tokenUrl: 'https://app.asana.com/-/oauth_token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  metadata: { tokenResponse: ['data'], callback: [] },
  accessTokenSeconds: 3600,
  refreshToken: { rotation: 'none' },
  sources: [
    {
      rule: 'accessTokenLifetime',
      url: OAUTH,
      quote: 'OAuth access tokens expire in 1 hour (3600 seconds)',
    },
    {
      rule: 'rotation',
      url: OAUTH,
      quote:
        'In the same request you must also pass in your long-lived refresh_token from the original token exchange request.',
    },
    {
      rule: 'refreshEarning',
      url: OAUTH,
      quote:
        'If exchanging a code, this is a long-lived token that can be used to get new access tokens when older ones expire',
    },
    {
      rule: 'clientAuth',
      url: OAUTH,
      quote:
        "At this point, your app should make a POST request to https://app.asana.com/-/oauth_token, passing the parameters as part of a standard form-encoded POST body (i.e., passing in the data into a request with header 'Content-Type: application/x-www-form-urlencoded')",
    },
    {
      rule: 'pkce',
      url: OAUTH,
      quote: 'The code_challenge_method should be the string "S256" to tell Asana we hashed with SHA256.',
    },
  ],
  docs: [OAUTH],
};
