import type { CatalogueEntry } from './entry';

const GUIDE = 'https://developer.keap.com/getting-started-oauth-keys/';
const COMMUNITY = 'https://community.keap.com/t/how-to-get-access-token/86529';

/** Keap (formerly Infusionsoft): one scope, `full`; each refresh returns the next refresh token. */
export const keap: CatalogueEntry = {
  id: 'keap',
  name: 'Keap',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://accounts.infusionsoft.com/app/oauth/authorize',
  tokenUrl: 'https://api.infusionsoft.com/token',
  tokenAuthMethod: 'client_secret_basic',
  defaultScopes: ['full'],
  allowedScopes: ['full'],
  accessTokenSeconds: 86_400,
  refreshToken: { rotation: 'single_use', idleSeconds: 45 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: GUIDE,
      quote:
        'Keap uses OAuth2 to secure calls to our APIs, requiring usage of two flows: the Authorization Code grant (requesting permission from a User for access to their data) and the Refresh Token grant (securing tokens by requiring rotation).',
    },
    {
      rule: 'refreshEarning',
      url: GUIDE,
      quote:
        'You will receive a Refresh Token at that same time, allowing you to create a new Access Token/Refresh Token pair as they expire.',
    },
    {
      rule: 'clientAuth',
      url: GUIDE,
      unverified:
        "the page shows client_id and client_secret in the body of the code exchange and an HTTP Basic header on the refresh; the broker uses one method for both and picks Basic, the refresh's (the call that spends the refresh token)",
    },
    {
      rule: 'accessTokenLifetime',
      url: COMMUNITY,
      unverified:
        'an answer on Keap\'s community forum: "The Access Token is valid for 24 hours, but the Refresh Token is valid for 45 days."; the guide says only that it expires after expires_in',
    },
    {
      rule: 'refreshTokenIdle',
      url: COMMUNITY,
      unverified: 'the same community answer (45 days); not on the developer guide',
    },
  ],
  docs: [GUIDE],
};
