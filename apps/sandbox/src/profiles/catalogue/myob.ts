import type { ProviderProfile } from '../profile';

/** MYOB Business API: the company file comes back on the callback as businessId (keys from March 2025). */
export const myob: ProviderProfile = {
  id: 'myob',
  name: 'MYOB Business',
  docs: [
    'https://developer.myob.com/api/accountright/api-overview/authentication/',
    'https://apisupport.myob.com/hc/en-us/articles/12861196770447-Retrieving-Company-File-GUIDs-via-MYOB-API-Post-March-2025',
  ],
  clientAuthentication: 'post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  // "Note: The scopes must be space" separated.
  scopes: { separator: ' ' },
  // Twenty minutes and one week as reported (not confirmed by a MYOB sentence); a used refresh token is refused.
  accessToken: { ttlSeconds: 1200, reportsExpiresIn: true, tokenType: 'bearer' },
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 7 * 86400 },
  answerShape: 'oauth',
  callbackExtras: { businessId: '8f1c2d3e-0000-4000-8000-{accountId}', businessName: 'Sandbox Company File' },
};
