import type { ProviderProfile } from '../profile';

/** Keap: scope full only; refresh tokens rotate on every use (45 days unused, by Keap's community). */
export const keap: ProviderProfile = {
  id: 'keap',
  name: 'Keap',
  docs: ['https://developer.keap.com/getting-started-oauth-keys/'],
  // Keap's forum threads show HTTP Basic on the refresh; the guide's token sections were not read in full.
  clientAuthentication: 'basic-or-post',
  grantTypes: ['authorization_code'],
  pkce: 'none',
  // "The only current valid value is scope=full"
  scopes: { separator: ' ', known: ['full'] },
  accessToken: { ttlSeconds: 86400, reportsExpiresIn: true, tokenType: 'bearer' },
  // "the Refresh Token grant (securing tokens by requiring rotation)"
  refreshToken: { rotation: 'single-use', unusedTtlSeconds: 45 * 86400 },
  answerShape: 'oauth',
};
