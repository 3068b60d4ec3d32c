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
  // `extended` makes each refresh return a refresh token with a fresh 30-day life.
  defaultScopes: ['signature', 'extended'],
  accessTokenSeconds: 28_800,
  refreshToken: { rotation: 'rotating', idleSeconds: 30 * 86_400 },
  sources: [],
  docs: ['https://developers.docusign.com/platform/auth/authcode/authcode-get-token/'],
};
