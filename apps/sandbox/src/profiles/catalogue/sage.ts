import type { ProviderProfile } from '../profile';

/** Sage Accounting v3.1: five-minute access tokens, a new refresh token with each refresh, 31 days unused. */
export const sage: ProviderProfile = {
  id: 'sage',
  name: 'Sage Accounting',
  docs: ['https://developer.sage.com/accounting/docs/v1.0.0/guides/learning/authenticating/authentication'],
  // client_id and client_secret are "Required body parameters" of both token requests.
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  // "Only S256 or plain are valid."
  pkce: 'supported',
  // "You should ensure that scope in your request is either readonly or full_access."
  scopes: { separator: ' ', known: ['readonly', 'full_access'] },
  // "expires_in informs you about the lifetime of the access token, which is 300 seconds/5 minutes"
  accessToken: { ttlSeconds: 300, reportsExpiresIn: true, tokenType: 'bearer' },
  // "The refresh token itself expires after 31 days"; whether a used one keeps working is not said: refused.
  refreshToken: {
    rotation: 'single-use',
    unusedTtlSeconds: 31 * 86400,
    expiresInField: 'refresh_token_expires_in',
  },
  answerShape: 'oauth',
  tokenAnswerExtras: { requested_by_id: '{accountId}' },
  callbackExtras: { country: 'GB' },
};
