import { COMMA, type CatalogueEntry } from './entry';

export const zoho: CatalogueEntry = {
  id: 'zoho',
  name: 'Zoho',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://accounts.zoho.{domain}/oauth/v2/auth',
  tokenUrl: 'https://accounts.zoho.{domain}/oauth/v2/token',
  tokenAuthMethod: 'client_secret_post',
  scopeSeparator: COMMA,
  authorizationParams: { access_type: 'offline', prompt: 'consent' },
  config: [
    {
      name: 'domain',
      pattern: 'com|eu|in|com\\.au|jp|ca|com\\.cn|sa|uk',
      description: "the account's data centre: com, eu, in, com.au, jp, ca, com.cn, sa or uk",
    },
  ],
  metadata: { tokenResponse: ['api_domain'], callback: [] },
  accessTokenSeconds: 3600,
  // Does not expire and is not rotated: refresh answers carry no refresh_token.
  refreshToken: { rotation: 'none' },
  // Errors come as HTTP 200 `{ "error": "invalid_code" }` (a dead code or refresh token).
  errorCodes: { invalid_code: 'invalid_grant', invalid_client_secret: 'invalid_client' },
  sources: [],
  docs: [
    'https://www.zoho.com/accounts/protocol/oauth/web-apps/access-token.html',
    'https://www.zoho.com/accounts/protocol/oauth/multi-dc.html',
  ],
};
