import { COMMA, type CatalogueEntry } from './entry';

export const slack: CatalogueEntry = {
  id: 'slack',
  name: 'Slack',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://slack.com/oauth/v2/authorize',
  tokenUrl: 'https://slack.com/api/oauth.v2.access',
  tokenAuthMethod: 'client_secret_post',
  scopeSeparator: COMMA,
  // Slack answers token_type "bot" (or "user") for what is a bearer token.
  bearerTokenTypes: ['bot', 'user'],
  // Not authed_user: with user scopes it carries the user's own tokens (they would be stripped,
  // but the rest of it says nothing a caller of the bot token needs).
  metadata: { tokenResponse: ['team', 'enterprise', 'app_id', 'bot_user_id'], callback: [] },
  // With token rotation on, access tokens last 12 hours and each refresh token is used once.
  accessTokenSeconds: 43_200,
  refreshToken: { rotation: 'single_use' },
  // Errors come as HTTP 200 `{ ok: false, error }`; these codes are read as their RFC 6749 kin.
  errorCodes: {
    invalid_refresh_token: 'invalid_grant',
    invalid_code: 'invalid_grant',
    code_already_used: 'invalid_grant',
    code_expired: 'invalid_grant',
    token_revoked: 'invalid_grant',
    token_expired: 'invalid_grant',
    invalid_client_id: 'invalid_client',
    bad_client_secret: 'invalid_client',
    bad_redirect_uri: 'invalid_request',
    invalid_grant_type: 'unsupported_grant_type',
    ratelimited: 'slow_down',
    internal_error: 'server_error',
    fatal_error: 'server_error',
    service_unavailable: 'temporarily_unavailable',
    request_timeout: 'temporarily_unavailable',
  },
  sources: [
    {
      rule: 'rotation',
      url: 'https://docs.slack.dev/authentication/using-token-rotation',
      quote:
        'The refresh token is then revoked, and a new refresh token is used to exchange the new expiring access token when it expires.',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://docs.slack.dev/authentication/using-token-rotation',
      quote: 'With token rotation, it expires every 12 hours.',
    },
    {
      rule: 'clientAuth',
      url: 'https://docs.slack.dev/reference/methods/oauth.v2.access',
      unverified:
        'client_id and client_secret as form arguments (HTTP Basic also accepted), as the method page lists them; not re-read',
    },
  ],
  docs: [
    'https://docs.slack.dev/authentication/installing-with-oauth',
    'https://docs.slack.dev/authentication/using-token-rotation',
    'https://docs.slack.dev/reference/methods/oauth.v2.access',
  ],
};
