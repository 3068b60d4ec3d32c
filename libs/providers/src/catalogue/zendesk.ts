import type { CatalogueEntry } from './entry';

export const zendesk: CatalogueEntry = {
  id: 'zendesk',
  name: 'Zendesk',
  grantTypes: ['authorization_code'],
  authorizationUrl: 'https://{subdomain}.zendesk.com/oauth/authorizations/new',
  tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
  tokenAuthMethod: 'client_secret_post',
  pkce: 'S256',
  defaultScopes: ['read', 'write'],
  config: [
    {
      name: 'subdomain',
      pattern: '[a-z0-9][a-z0-9-]{0,62}',
      description: 'the account\'s subdomain: "acme" for acme.zendesk.com',
    },
  ],
  // "A successful request will also return a refresh token and delete the previous access and
  // refresh tokens": single use. Access tokens last 30 minutes by default (clients created from
  // 30 April 2026; older clients must ask for an expiry). A translated copy of the announcement says
  // a refresh needs the access token to have expired; the English page does not say so, so it is
  // not encoded as a refresh window.
  accessTokenSeconds: 1800,
  // A client created before Zendesk's refresh token support gets a non-expiring access token and
  // no refresh token unless the token request sends expires_in; sent always (the default value).
  codeExchangeParams: { expires_in: '1800' },
  // Refresh tokens last 30 days by default (7 to 90 as the client sets them).
  refreshToken: { rotation: 'single_use', lifetimeSeconds: 30 * 86_400 },
  sources: [
    {
      rule: 'rotation',
      url: 'https://support.zendesk.com/hc/en-us/articles/9182123625370-Announcing-support-for-OAuth-refresh-token-grant-type-and-OAuth-access-and-refresh-token-expirations',
      quote:
        'A successful request will also return a refresh token and delete the previous access and refresh tokens.',
    },
    {
      rule: 'refreshTokenLifetime',
      url: 'https://support.zendesk.com/hc/en-us/articles/9182123625370-Announcing-support-for-OAuth-refresh-token-grant-type-and-OAuth-access-and-refresh-token-expirations',
      unverified:
        "30 days by default (7 to 90), from the announcement's TTL table as read in its Japanese translation; the English table was not re-read",
    },
    {
      rule: 'accessTokenLifetime',
      url: 'https://support.zendesk.com/hc/en-us/articles/9182123625370-Announcing-support-for-OAuth-refresh-token-grant-type-and-OAuth-access-and-refresh-token-expirations',
      unverified:
        "30 minutes by default, from the announcement's TTL table as read in its Japanese translation; the English table was not re-read",
    },
    {
      rule: 'clientAuth',
      url: 'https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token',
      unverified: 'client_id and client_secret in the JSON or form body; not re-read',
    },
    {
      rule: 'pkce',
      url: 'https://developer.zendesk.com/rest_api/docs/support/grant_type_tokens',
      quote:
        'When using PKCE, the initial authorization request must also include the code_challenge and code_challenge_method parameters.',
    },
  ],
  docs: [
    'https://developer.zendesk.com/documentation/api-basics/authentication/refresh-token',
    'https://support.zendesk.com/hc/en-us/articles/9182123625370-Announcing-support-for-OAuth-refresh-token-grant-type-and-OAuth-access-and-refresh-token-expirations',
    'https://developer.zendesk.com/documentation/ticketing/working-with-oauth/creating-and-using-oauth-tokens-with-the-api/',
  ],
};
