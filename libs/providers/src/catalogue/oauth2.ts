import type { CatalogueEntry } from './entry';

/** Any standard provider, described by the admin with the same settings every entry is made of. */
export const oauth2: CatalogueEntry = {
  id: 'oauth2',
  name: 'Generic OAuth 2.0',
  grantTypes: ['authorization_code', 'client_credentials'],
  sources: [],
  docs: ['https://www.rfc-editor.org/rfc/rfc6749', 'https://www.rfc-editor.org/rfc/rfc7636'],
};
