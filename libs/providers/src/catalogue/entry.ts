import type { BasicAuthEncoding } from '../client-auth';

export type GrantType = 'authorization_code' | 'client_credentials';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';
export type PkceMethod = 'S256' | 'none';

/**
 * How the provider treats a refresh token once it has been used:
 * - `none`: it never changes; refresh answers carry no new one (or the same one).
 * - `rotating`: each refresh returns a new one and the old one stays valid (no reuse detection).
 * - `single_use`: each refresh returns a new one and the old one is dead at once.
 * - `grace`: each refresh returns a new one; the old one still works for `graceSeconds`.
 */
export const REFRESH_TOKEN_ROTATIONS = ['none', 'rotating', 'single_use', 'grace'] as const;
export type RefreshTokenRotation = (typeof REFRESH_TOKEN_ROTATIONS)[number];

/** A value each connection supplies (a shop, a subdomain, a tenant), substituted into `{name}` of the URLs. */
export interface ConfigField {
  /** Letters, digits and `_`; the `{name}` placeholder in the authorization and token URLs. */
  name: string;
  /** A regular expression the whole value must match (anchored by the broker). */
  pattern: string;
  description: string;
  /**
   * A second placeholder, `{<name>}`, holding for each value of this field the text given here:
   * Zoho's data centre `ca` is served at `accounts.zohocloud.ca`, not `accounts.zoho.ca`.
   */
  derived?: { name: string; values: Record<string, string> };
}

/** Which fields of the provider's answers are kept with the connection and returned with each token. */
export interface MetadataFields {
  /** Fields of the token endpoint's JSON answer (e.g. `instance_url`), refreshed on each answer that has them. */
  tokenResponse: string[];
  /** Query parameters of the authorization callback (e.g. QuickBooks' `realmId`). */
  callback: string[];
}

/** The lifetime and rotation rules of the provider's refresh tokens. */
export interface RefreshTokenRules {
  rotation: RefreshTokenRotation;
  /** `grace`: how long the previous refresh token keeps working. */
  graceSeconds?: number;
  /** Lifetime from issue, when the token answer does not say (`refresh_token_expires_in`). */
  lifetimeSeconds?: number;
  /** Dies when unused this long; each use starts the count again, so the scheduler uses it in time. */
  idleSeconds?: number;
}

/** A rule of an entry that the provider's own documentation must back. */
export type CatalogueRule =
  | 'rotation'
  | 'graceSeconds'
  | 'refreshTokenLifetime'
  | 'refreshTokenIdle'
  | 'accessTokenLifetime'
  | 'refreshWindow'
  | 'clientAuth'
  | 'refreshEarning'
  | 'pkce';
export interface RuleSource {
  rule: CatalogueRule;
  /** The provider's own page. */
  url: string;
  /** The sentence on that page the rule comes from (short, verbatim). */
  quote?: string;
  /** Set instead of `quote` when no provider page confirms the rule: what it rests on. */
  unverified?: string;
}
/** What makes the provider issue a refresh token: always asked, whatever scopes the admin names. */
export interface RefreshEarning {
  scopes?: string[];
  authorizationParams?: Record<string, string>;
}

/**
 * One provider of the catalogue: the settings of the generic OAuth 2.0 engine that make it talk
 * to that provider as its documentation says. An admin can describe a provider that is not in
 * the catalogue with the same settings (`provider: "oauth2"`).
 */
export interface CatalogueEntry {
  id: string;
  name: string;
  grantTypes: GrantType[];
  /** May hold `{name}` placeholders of `config`. */
  authorizationUrl?: string;
  tokenUrl?: string;
  tokenAuthMethod?: TokenAuthMethod;
  basicAuthEncoding?: BasicAuthEncoding;
  pkce?: PkceMethod;
  /** Joins scopes in the `scope` parameter; `" "` (RFC 6749) unless the provider wants `,`. */
  scopeSeparator?: string;
  /** Asked for when neither the integration nor the connection names scopes. */
  defaultScopes?: string[];
  /** When set, any other scope is refused with a 400 naming it. */
  allowedScopes?: string[];
  /** Extra query parameters of the authorization URL (access_type=offline, prompt=consent, audience…). */
  authorizationParams?: Record<string, string>;
  /** Extra form parameters of the code exchange (Shopify's `expiring=1`). */
  codeExchangeParams?: Record<string, string>;
  /** Extra form parameters of a refresh. */
  refreshParams?: Record<string, string>;
  metadata?: MetadataFields;
  config?: ConfigField[];
  refreshToken?: RefreshTokenRules;
  /** The access token's lifetime as documented (informational; the answer's expires_in decides). */
  accessTokenSeconds?: number;
  /** Lifetime assumed when the answer has no expires_in (Salesforce). */
  defaultExpiresInSeconds?: number;
  /** The provider refuses a refresh while the access token has more than this many seconds left. */
  refreshWindowSeconds?: number;
  /** token_type values (lowercase) the provider sends for what is a bearer token (Slack's `bot`). */
  bearerTokenTypes?: string[];
  /** The answer has no token_type at all; the token is a bearer token. */
  tokenTypeOptional?: boolean;
  /** A non-standard answer field holding the refresh token's lifetime (QuickBooks' `x_refresh_token_expires_in`). */
  refreshTokenExpiresInField?: string;
  /** Provider error codes read as an RFC 6749 code (e.g. Slack's `invalid_refresh_token` → `invalid_grant`). */
  errorCodes?: Record<string, string>;
  refreshEarning?: RefreshEarning;
  /** Every rule the entry sets, with the provider page and sentence it comes from. */
  sources: RuleSource[];
  /** The provider documentation this entry follows. */
  docs: string[];
}

/** Fields every scope-string provider shares; Shopify, Slack, Zoom and Zoho separate with ",". */
export const COMMA = ',';
