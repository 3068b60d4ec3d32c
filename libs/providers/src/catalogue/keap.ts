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
      unverified:
        'the guide says the Refresh Token grant is "securing tokens by requiring rotation" and that each refresh gives a new Access Token/Refresh Token pair, but not whether the spent refresh token stops working: read as dead at once, the safe reading',
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
        "no sentence read on the guide names the method (its token sections were not read in full here); Keap's forum threads show an HTTP Basic header on the refresh. The broker uses one method for both calls and picks Basic, the refresh's (the call that spends the refresh token)",
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
