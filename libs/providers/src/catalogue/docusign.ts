import type { CatalogueEntry } from './entry';

export const docusign: CatalogueEntry = {
  id: 'docusign',
  name: 'DocuSign',
  grantTypes: ['authorization_code'],
  // Developer (demo) accounts: account-d.docusign.com, through the overrides.
  authorizationUrl: 'https://account.docusign.com/oauth/auth',
  tokenUrl: 'https://account.docusign.com/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  pkce: 'S256',
  defaultScopes: ['signature'],
  // `extended` makes each refresh return a refresh token with a fresh 30-day life.
  refreshEarning: { scopes: ['extended'] },
  accessTokenSeconds: 28_800,
  refreshToken: { rotation: 'rotating', idleSeconds: 30 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
      unverified:
        'with the extended scope each refresh returns a refresh token with a fresh 30-day life, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
      unverified: '30 days, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
      unverified: '8 hours, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://developers.docusign.com/platform/auth/reference/obtain-access-token',
      quote:
        'The Authorization header contains your integration key and secret key, concatenated by a colon character, converted into Base64 and prefixed with the word Basic.',
    },
    {
      rule: 'pkce',
      url: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
      unverified: 'PKCE with S256, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
      unverified: 'the extended scope, from the first catalogue brief; not re-read',
    },
  ],
  docs: ['https://developers.docusign.com/platform/auth/authcode/authcode-get-token/'],
};
