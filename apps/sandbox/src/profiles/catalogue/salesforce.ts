import type { ProviderProfile } from '../profile';

/** Salesforce web server flow. */
export const salesforce: ProviderProfile = {
  id: 'salesforce',
  name: 'Salesforce',
  docs: [
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_web_server_flow.htm',
    'https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ' },
  // "refresh_token: Allows a refresh token to be returned when the requesting client is eligible to
  // receive one"; offline_access is its synonym. Without either: an access token only.
  refreshTokenIssuance: { anyScope: ['refresh_token', 'offline_access'] },
  // The answer carries no expires_in; the session lasts the org's timeout (two hours by default).
  accessToken: { ttlSeconds: 7200, reportsExpiresIn: false, tokenType: 'Bearer' },
  refreshToken: { rotation: 'none', refreshAnswer: 'omitted' },
  answerShape: 'oauth',
  tokenAnswerExtras: {
    instance_url: '{sandbox}/salesforce/instance',
    id: '{sandbox}/salesforce/id/00D000000000001EAA/{accountId}',
    issued_at: '{now}',
  },
};
