import type { CatalogueEntry } from './entry';

export const hubspot: CatalogueEntry = {
  id: 'hubspot',
  name: 'HubSpot',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://app.hubspot.com/oauth/authorize',
  tokenUrl: 'https://api.hubapi.com/oauth/v1/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 1800,
  // The refresh token does not change and does not expire (until the app is uninstalled).
  refreshToken: { rotation: 'none' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
      unverified:
        'the refresh token does not change and does not expire until the app is uninstalled, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://developers.hubspot.com/changelog/upcoming-expiration-of-oauth-access-tokens-is-changing',
      quote: 'After this change, tokens will expire 30 minutes after being generated.',
    },
    {
      rule: 'clientAuth',
      url: 'https://developers.hubspot.com/docs/api/oauth-quickstart-guide',
      unverified: "client_secret in the form body as the guide's examples show; not re-read",
    },
  ],
  docs: ['https://developers.hubspot.com/docs/api/oauth-quickstart-guide'],
};
