import { COMMA, type CatalogueEntry } from './entry';

export const zoho: CatalogueEntry = {
  id: 'zoho',
  name: 'Zoho',
  grantTypes: ['authorization_code'],
  // Each data centre has its own accounts server; Canada's is accounts.zohocloud.ca (Multi DC page).
  authorizationUrl: 'https://{accountsServer}/oauth/v2/auth',
  tokenUrl: 'https://{accountsServer}/oauth/v2/token',
  tokenAuthMethod: 'client_secret_post',
  scopeSeparator: COMMA,
  // access_type=offline earns the refresh token; prompt=consent earns it again on a re-authorization.
  refreshEarning: { authorizationParams: { access_type: 'offline', prompt: 'consent' } },
  config: [
    {
      name: 'domain',
      pattern: 'com|eu|in|com\\.au|jp|ca|com\\.cn|sa|uk',
      description: "the account's data centre: com, eu, in, com.au, jp, ca, com.cn, sa or uk",
      derived: {
        name: 'accountsServer',
        values: {
          com: 'accounts.zoho.com',
          eu: 'accounts.zoho.eu',
          in: 'accounts.zoho.in',
          'com.au': 'accounts.zoho.com.au',
          jp: 'accounts.zoho.jp',
          ca: 'accounts.zohocloud.ca',
          'com.cn': 'accounts.zoho.com.cn',
          sa: 'accounts.zoho.sa',
          uk: 'accounts.zoho.uk',
        },
      },
    },
  ],
  metadata: { tokenResponse: ['api_domain'], callback: [] },
  accessTokenSeconds: 3600,
  // Does not expire and is not rotated: refresh answers carry no refresh_token.
  refreshToken: { rotation: 'none' },
  // Errors come as HTTP 200 `{ "error": "invalid_code" }` (a dead code or refresh token).
  errorCodes: { invalid_code: 'invalid_grant', invalid_client_secret: 'invalid_client' },
  sources: [
    {
      rule: 'rotation',
      url: 'https://help.zoho.com/portal/en/kb/accounts/faqs-troubleshooting/faqs/oauth/articles/will-the-refresh-tokens-expire',
      quote: 'No. Refresh tokens will never expire.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html',
      unverified: 'one hour, from the first catalogue brief; not re-read',
    },
    {
      rule: 'clientAuth',
      url: 'https://www.zoho.com/accounts/protocol/oauth/multi-dc/client-authorization.html',
      unverified: "client_id and client_secret as request parameters, as the page's example request shows",
    },
    {
      rule: 'refreshEarning',
      url: 'https://www.zoho.com/crm/developer/docs/api/v8/multi-dc.html',
      unverified:
        "access_type={offline_or_online} in the page's authorization URL; that offline yields the refresh token and prompt=consent yields it again is from the first catalogue brief",
    },
  ],
  docs: [
    'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html',
    'https://www.zoho.com/accounts/protocol/oauth/multi-dc.html',
  ],
};
