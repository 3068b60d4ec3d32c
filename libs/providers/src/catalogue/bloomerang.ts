import type { CatalogueEntry } from './entry';

/** Behaviour lives in `resolveProvider` (kept exactly as before the catalogue); this is its listing. */
export const bloomerang: CatalogueEntry = {
  id: 'bloomerang',
  name: 'Bloomerang',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://crm.bloomerang.co/Authorize',
  tokenUrl: 'https://api.bloomerang.co/v2/oauth/token',
  tokenAuthMethod: 'client_secret_basic',
  basicAuthEncoding: 'raw',
  allowedScopes: ['Standard', 'StandardEditFinancialData', 'OrgAdmin'],
  // "The refresh tokens expire in 90 days. Any attempt to use a refresh token that has already
  // been used will result in the revocation of all tokens associated" (the seed document).
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 90 * 86_400 },
  // "How to Integrate with the Bloomerang REST API" (kept in the project's seed documents); the
  // page's public address is not re-verified.
  sources: [
    {
      rule: 'rotation',
      url: 'https://bloomerang.co/product/integrations-data-management/api/rest-api/',
      quote:
        'Any attempt to use a refresh token that has already been used will result in the revocation of all tokens associated',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://bloomerang.co/product/integrations-data-management/api/rest-api/',
      quote: 'The refresh tokens expire in 90 days.',
    },
    {
      rule: 'clientAuth',
      url: 'https://bloomerang.co/product/integrations-data-management/api/rest-api/',
      unverified:
        "the project's seed document (shared/seeds) and the broker's Bloomerang client since its first release; the public page is not re-read",
    },
  ],
  docs: ['https://bloomerang.co/product/integrations-data-management/api/rest-api/'],
};
