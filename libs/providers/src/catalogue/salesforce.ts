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
  defaultScopes: ['api'],
  // Salesforce issues a refresh token only when the authorization asks refresh_token (or its
  // synonym offline_access).
  refreshEarning: { scopes: ['refresh_token'] },
  metadata: { tokenResponse: ['instance_url', 'id'], callback: [] },
  // The token answer has no expires_in: the access token lives as long as the org's session
  // timeout (2 hours by default; set per org). Assumed 2 hours, refreshed before that.
  defaultExpiresInSeconds: 7200,
  // Refresh answers carry no new refresh token; by default it is valid until revoked (the
  // connected app's refresh token policy may set an expiry: not known to the broker).
  refreshToken: { rotation: 'none' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm',
      quote:
        'For better security, enable refresh token rotation on your connected app or external client app when you configure its OAuth settings.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm',
      quote:
        'The connected app’s session timeout value determines when an access token is no longer valid and when to apply for a new one using a refresh token.',
    },
    {
      rule: 'clientAuth',
      url: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
      unverified:
        "client_id and client_secret in the form body as the web server flow's examples show; not re-read",
    },
    {
      rule: 'pkce',
      url: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
      unverified: 'code_challenge (S256) accepted by the web server flow; not re-read',
    },
    {
      rule: 'refreshEarning',
      url: 'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_tokens_scopes.htm',
      quote:
        'refresh_token: Allows a refresh token to be returned when the requesting client is eligible to receive one.',
    },
  ],
  docs: [
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm',
  ],
};
