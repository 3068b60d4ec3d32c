import type { CatalogueEntry } from './entry';

export const google: CatalogueEntry = {
  id: 'google',
  name: 'Google',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://accounts.google.com/o/oauth2/v2/auth',
  tokenUrl: 'https://oauth2.googleapis.com/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  // access_type=offline is what yields a refresh token; prompt=consent makes Google issue one again
  // on a re-authorization (it sends one only at the first consent otherwise).
  refreshEarning: { authorizationParams: { access_type: 'offline', prompt: 'consent' } },
  accessTokenSeconds: 3600,
  // Refresh answers carry no refresh_token: the first one stays. It expires after six months unused.
  refreshToken: { rotation: 'none', idleSeconds: 182 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developers.google.com/identity/protocols/oauth2/web-server',
      unverified:
        "refresh answers without refresh_token, as Google's token endpoint sends them; no sentence of the page re-read says so",
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://developers.google.com/identity/protocols/oauth2#expiration',
      unverified:
        '"six months" unused, as widely quoted from this page (e.g. GitGuardian\'s detector notes: "after six months without use"); taken as 182 days, the shorter reading; the page itself was not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developers.google.com/identity/protocols/oauth2/web-server',
      unverified: "expires_in 3599/3600 in Google's answers; informational only",
    },
    {
      rule: 'clientAuth',
      url: 'https://developers.google.com/identity/protocols/oauth2/web-server',
      unverified: "the page's HTTP/REST examples send client_secret in the form body; not re-read",
    },
    {
      rule: 'pkce',
      url: 'https://developers.google.com/identity/protocols/oauth2/web-server',
      unverified: 'Google accepts code_challenge with S256 for web server apps; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://developers.google.com/identity/protocols/oauth2/web-server#creatingclient',
      quote:
        'This value instructs the Google authorization server to return a refresh token and an access token the first time that your application exchanges an authorization code for tokens.',
    },
  ],
  docs: [
    'https://developers.google.com/identity/protocols/oauth2/web-server',
    'https://developers.google.com/identity/protocols/oauth2#expiration',
  ],
};
