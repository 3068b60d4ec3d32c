import type { CatalogueEntry } from './entry';

export const salesforce: CatalogueEntry = {
  id: 'salesforce',
  name: 'Salesforce',
  grantTypes: ['authorization_code'],
  // A sandbox org logs in at test.salesforce.com, a My Domain at its own host: use the overrides.
  authorizationUrl: 'https://login.salesforce.com/services/oauth2/authorize',
  tokenUrl: 'https://login.salesforce.com/services/oauth2/token',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  defaultScopes: ['api', 'refresh_token'],
  metadata: { tokenResponse: ['instance_url', 'id'], callback: [] },
  // The token answer has no expires_in: the access token lives as long as the org's session
  // timeout (2 hours by default; set per org). Assumed 2 hours, refreshed before that.
  defaultExpiresInSeconds: 7200,
  // Refresh answers carry no new refresh token; by default it is valid until revoked (the
  // connected app's refresh token policy may set an expiry: not known to the broker).
  refreshToken: { rotation: 'none' },
  sources: [],
  docs: [
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm',
  ],
};
