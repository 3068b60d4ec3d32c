import type { ProviderProfile } from '../profile';

/** Asana: one-hour access tokens; the long-lived refresh token is presented again on every refresh. */
export const asana: ProviderProfile = {
  id: 'asana',
  name: 'Asana',
  docs: ['https://developers.asana.com/docs/oauth'],
  // client_id and client_secret are required parameters of the form-encoded POST body.
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  // "Apps with registered scopes must specify scopes at the authorization endpoint using the scope query parameter."
  scopes: { separator: ' ', required: true },
  // "OAuth access tokens expire in 1 hour (3600 seconds)"
  accessToken: { ttlSeconds: 3600, reportsExpiresIn: true, tokenType: 'bearer' },
  // "you must also pass in your long-lived refresh_token from the original token exchange request"
  refreshToken: { rotation: 'none', refreshAnswer: 'omitted' },
  answerShape: 'oauth',
  tokenAnswerExtras: { data: { gid: '{accountId}', name: '{account}', email: '{account}@example.com' } },
};
