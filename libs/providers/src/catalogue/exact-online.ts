import type { CatalogueEntry } from './entry';

export const exactOnline: CatalogueEntry = {
  id: 'exact-online',
  name: 'Exact Online',
  grantTypes: ['authorization_code'],
  // The Dutch site; other countries use their own host (.be, .de, .co.uk…) through the overrides.
  authorizationUrl: 'https://start.exactonline.nl/api/oauth2/auth',
  tokenUrl: 'https://start.exactonline.nl/api/oauth2/token',
  tokenAuthMethod: 'client_secret_post',
  accessTokenSeconds: 600,
  // A refresh is accepted only when the access token has less than ~30 s left (30 s as the
  // catalogue brief has it; not re-verified against Exact's own pages).
  refreshWindowSeconds: 30,
  // Each refresh returns a new refresh token; the previous ones expire once the new one is first
  // used (so the old one still works until then). An unused refresh token lives 30 days.
  refreshToken: { rotation: 'rotating', idleSeconds: 30 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://forums.invantive.com/t/exact-online-error-message-old-refresh-token-used/2903',
      unverified:
        "the previous refresh tokens expire once the new one is first used, from a partner forum (Invantive), not Exact's own page",
    },
    {
      rule: 'refreshTokenIdle',
      url: 'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleoauth',
      unverified: '30 days unused, from the first catalogue brief; not re-read',
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleoauth',
      unverified: '10 minutes, from the first catalogue brief; not re-read',
    },
    {
      rule: 'refreshWindow',
      url: 'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleoauth',
      unverified:
        "a refresh only within the access token's last ~30 seconds, from the first catalogue brief; not re-read",
    },
    {
      rule: 'clientAuth',
      url: 'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleoauth',
      unverified: 'client_id and client_secret in the form body, from the first catalogue brief; not re-read',
    },
  ],
  docs: [
    'https://support.exactonline.com/community/s/knowledge-base#All-All-DNO-Content-oauth-eol-oauth-dev-impleoauth',
    'https://forums.invantive.com/t/exact-online-error-message-old-refresh-token-used/2903',
  ],
};
