import type { ProviderProfile } from '../profile';

/** Slack oauth.v2.access with token rotation on: a Web API method, so every answer is HTTP 200. */
export const slack: ProviderProfile = {
  id: 'slack',
  name: 'Slack',
  docs: [
    'https://docs.slack.dev/authentication/installing-with-oauth',
    'https://docs.slack.dev/authentication/using-token-rotation',
    'https://docs.slack.dev/reference/methods/oauth.v2.access',
  ],
  clientAuthentication: 'basic-or-post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  scopes: { separator: ',' },
  // Token rotation: expiring access tokens (12 hours) that come with a refresh token, each used once.
  accessToken: { ttlSeconds: 43200, reportsExpiresIn: true, tokenType: 'bot' },
  // "The refresh token is then revoked, and a new refresh token is used" for the next exchange.
  refreshToken: { rotation: 'single-use' },
  answerShape: 'slack',
  tokenAnswerExtras: {
    app_id: 'A0SANDBOX01',
    bot_user_id: 'U0SANDBOXBOT',
    team: { id: 'T{accountId}', name: 'Sandbox team of {account}' },
    enterprise: null,
    is_enterprise_install: false,
    authed_user: { id: 'U{accountId}' },
  },
};
