import type { CatalogueEntry } from './entry';

/** Behaviour lives in `resolveProvider` (audience, environment, authVersion); this is its listing. */
export const bloom: CatalogueEntry = {
  id: 'bloom',
  name: 'Bloom',
  grantTypes: ['client_credentials'],
  tokenUrl: 'https://authn.bloom.dev/oauth2/token',
  tokenAuthMethod: 'client_secret_post',
  // "API Authentication" (kept in the project's seed documents); the public address is not re-verified.
  sources: [
    {
      rule: 'clientAuth',
      url: 'https://developers.bloomcredit.io/docs/authentication',
      unverified:
        'the project\'s seed document "API Authentication" (client_id and client_secret in the form); the public page is not re-read',
    },
  ],
  docs: ['https://developers.bloomcredit.io/docs/authentication'],
};
