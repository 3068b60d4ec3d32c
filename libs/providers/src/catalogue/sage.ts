import type { CatalogueEntry } from './entry';

const AUTH =
  'https://developer.sage.com/accounting/docs/v1.0.0/guides/learning/authenticating/authentication';

/**
 * Sage Accounting (Sage Business Cloud Accounting, API v3.1). Five-minute access tokens; each
 * refresh returns a new refresh token that lives 31 days. The token belongs to a user: the business
 * is chosen per request with the X-Business header (GET /businesses lists them).
 */
export const sage: CatalogueEntry = {
  id: 'sage',
  name: 'Sage Accounting',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://www.sageone.com/oauth2/auth/central',
  tokenUrl: 'https://oauth.accounting.sage.com/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  // "You should always set this filter to apiv3.1 to only see countries that support API v3.1."
  authorizationParams: { filter: 'apiv3.1' },
  defaultScopes: ['full_access'],
  allowedScopes: ['full_access', 'readonly'],
  // The callback names the country the user chose; the token answer the user who authorized.
  metadata: { tokenResponse: ['requested_by_id'], callback: ['country'] },
  accessTokenSeconds: 300,
  refreshToken: { rotation: 'single_use', idleSeconds: 31 * 86_400 },
  sources: [
    {
      rule: 'accessTokenLifetime',
      url: AUTH,
      quote: 'expires_in informs you about the lifetime of the access token, which is 300 seconds/5 minutes',
    },
    {
      rule: 'refreshTokenIdle',
      url: AUTH,
      quote:
        'The refresh token itself expires after 31 days, users will have to freshly authorize your app if you do not refresh your tokens within that time.',
    },
    {
      rule: 'rotation',
      url: AUTH,
      unverified:
        'the page says a refresh answer "includes the new access token and a new refresh token" but not whether the previous one keeps working: read as dead at once, the safe reading',
    },
    {
      rule: 'clientAuth',
      url: AUTH,
      quote: 'Your app Client Secret. You can get this value from the App Details',
    },
    {
      rule: 'pkce',
      url: AUTH,
      quote: 'You must use S256 unless your client is unable to compute SHA256 hashes.',
    },
    {
      rule: 'refreshEarning',
      url: AUTH,
      quote: 'refresh_token is used to obtain new access and refresh tokens when the access token expired.',
    },
  ],
  docs: [AUTH],
};
