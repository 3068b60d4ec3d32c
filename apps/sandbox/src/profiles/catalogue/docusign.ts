import type { ProviderProfile } from '../profile';

/** DocuSign eSignature authorization code grant. */
export const docusign: ProviderProfile = {
  id: 'docusign',
  name: 'DocuSign',
  docs: [
    'https://developers.docusign.com/platform/auth/authcode/authcode-get-token/',
    'https://developers.docusign.com/platform/auth/reference/obtain-access-token/',
  ],
  clientAuthentication: 'basic',
  grantTypes: ['authorization_code'],
  pkce: 'supported',
  scopes: { separator: ' ', required: true },
  accessToken: { ttlSeconds: 28800, reportsExpiresIn: true, tokenType: 'Bearer' },
  refreshToken: { rotation: 'keep-old', unusedTtlSeconds: 30 * 86400 },
  answerShape: 'oauth',
};
