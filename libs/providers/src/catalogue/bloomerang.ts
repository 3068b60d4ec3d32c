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
  refreshToken: { rotation: 'rotating', lifetimeSeconds: 90 * 86_400 },
  docs: ['https://bloomerang.co/product/integrations-data-management/api/rest-api/'],
};
