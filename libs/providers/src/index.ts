export type {
  GrantType,
  IntegrationProviderConfig,
  ProviderKind,
  ResolvedProvider,
  TokenAuthMethod,
} from './provider-config';
export type { BasicAuthEncoding } from './client-auth';
export { BASIC_AUTH_ENCODINGS, clientSecretBasic, formEncodeCredential } from './client-auth';
export {
  BLOOM_TOKEN_URLS,
  BLOOMERANG_AUTHORIZATION_URL,
  BLOOMERANG_SCOPES,
  BLOOMERANG_TOKEN_URL,
  checkClientId,
  isLoopbackUrl,
  ProviderConfigError,
  resolveProvider,
} from './provider-config';
export type { ProviderErrorCode, RequestOutcome } from './provider-errors';
export {
  InvalidProviderResponseError,
  NeedsReauthorizationError,
  parseRetryAfter,
  ProviderError,
  ProviderMisconfiguredError,
  RotatedAnswerUnusableError,
  TransientProviderError,
} from './provider-errors';
export type {
  ClientCredentials,
  OAuthProtocol,
  PkcePair,
  ProtocolCallOptions,
  TokenSet,
} from './oauth-protocol';
export type { ProviderFailureContext, TokenEndpointExchange } from './oauth-protocol';
export { classifyProviderFailure, OAuth4WebApiProtocol, protocolFor } from './oauth-protocol';
export type {
  CatalogueEntry,
  ConfigField,
  MetadataFields,
  PkceMethod,
  RefreshTokenRotation,
  RefreshTokenRules,
} from './catalogue';
export {
  CATALOGUE,
  CATALOGUE_IDS,
  CATALOGUE_RULES,
  catalogueEntry,
  REFRESH_TOKEN_ROTATIONS,
  rulesSet,
} from './catalogue';
export type { ProtocolKnobs } from './provider-config';
export {
  authorizationScopes,
  bindConnectionConfig,
  checkConnectionConfig,
  SCOPE_SEPARATORS,
} from './provider-config';
export { boundClaimedExpiresIn, boundTokenLifetimes } from './token-lifetimes';
export type { HostLookup } from './provider-hosts';
export {
  checkProviderHosts,
  configureProviderHosts,
  guardProviderRequest,
  isLoopbackAddress,
  providerFetch,
  internalAddressKind,
  providerHostProblem,
} from './provider-hosts';
