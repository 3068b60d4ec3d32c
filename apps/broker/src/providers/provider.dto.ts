import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { CATALOGUE_RULES, REFRESH_TOKEN_ROTATIONS } from '@broker/providers';
import { GRANT_TYPES, PKCE_METHODS, TOKEN_AUTH_METHODS } from '../integrations/integration.dto';

export class ProviderConfigFieldView {
  /**
   * The key of `POST /admin/connections` `config`, and the `{name}` placeholder in the URLs.
   * @example "shop"
   */
  name: string;
  /**
   * The regular expression the whole value must match.
   * @example "[a-zA-Z0-9][a-zA-Z0-9-]{0,59}"
   */
  pattern: string;
  /** @example "the store's subdomain: \"acme\" for acme.myshopify.com" */
  description: string;
}

export class ProviderMetadataView {
  /**
   * Fields of the token answer kept as `metadata`.
   * @example ["instance_url", "id"]
   */
  tokenResponse: string[];
  /**
   * Callback query parameters kept as `metadata`.
   * @example ["realmId"]
   */
  callback: string[];
}

export class ProviderRefreshTokenView {
  /**
   * `none`: never changes; `rotating`: a new one on each use, the old one still valid;
   * `single_use`: a new one on each use, the old one dead; `grace`: the old one valid `graceSeconds` more.
   */
  @ApiProperty({ enum: REFRESH_TOKEN_ROTATIONS, example: 'grace' })
  rotation: string;
  /** @example 1800 */
  graceSeconds?: number;
  /**
   * Life from issue when the answer does not say.
   * @example 7776000
   */
  lifetimeSeconds?: number;
  /**
   * Dies when unused this long; the scheduler uses it in time.
   * @example 5184000
   */
  idleSeconds?: number;
}

export class ProviderRefreshEarningView {
  /** @example ["refresh_token"] */
  scopes?: string[];
  /** @example { "access_type": "offline", "prompt": "consent" } */
  authorizationParams?: Record<string, string>;
}

export class ProviderRuleSourceView {
  @ApiProperty({ enum: CATALOGUE_RULES, example: 'rotation' })
  rule: string;
  /** @example "https://developer.xero.com/faq/oauth2" */
  url: string;
  /**
   * The sentence of that page the rule comes from.
   * @example "you can retry refreshing your existing refresh token for a grace period of 30 minutes"
   */
  quote?: string;
  /** When no provider page confirms the rule: what it rests on. */
  unverified?: string;
}

/** One catalogue entry: what `POST /admin/integrations` does with `provider: "<id>"`. */
export class ProviderView {
  /** @example "shopify" */
  id: string;
  /** @example "Shopify" */
  name: string;
  @ApiProperty({ enum: GRANT_TYPES, isArray: true, example: ['authorization_code'] })
  grantTypes: string[];
  /** What each connection must give as `config` (empty when nothing). */
  @ApiProperty({ type: [ProviderConfigFieldView] })
  config: ProviderConfigFieldView[];
  /**
   * The scopes allowed (when the provider's scopes are a closed list); `[]`: none at all.
   * @example ["Standard", "StandardEditFinancialData", "OrgAdmin"]
   */
  scopes?: string[];
  /**
   * Scopes asked for when neither the integration nor the connection names scopes.
   * @example ["api"]
   */
  defaultScopes?: string[];
  /** What earns a refresh token: asked on every authorization, whatever scopes are named. */
  refreshEarning?: ProviderRefreshEarningView;
  /** Where each rule of the entry comes from: the provider's page and its sentence, or why it is unverified. */
  @ApiProperty({ type: () => [ProviderRuleSourceView] })
  sources: ProviderRuleSourceView[];
  /**
   * The provider documentation the entry follows.
   * @example ["https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/offline-access-tokens"]
   */
  docs: string[];
  /** @example "https://{shop}.myshopify.com/admin/oauth/authorize" */
  authorizationUrl?: string;
  /** @example "https://{shop}.myshopify.com/admin/oauth/access_token" */
  tokenUrl?: string;
  @ApiPropertyOptional({ enum: TOKEN_AUTH_METHODS })
  tokenAuthMethod?: string;
  @ApiPropertyOptional({ enum: PKCE_METHODS })
  pkce?: string;
  /** @example "," */
  scopeSeparator?: string;
  /** @example { "access_type": "offline", "prompt": "consent" } */
  authorizationParams?: Record<string, string>;
  /** @example { "expiring": "1" } */
  codeExchangeParams?: Record<string, string>;
  refreshParams?: Record<string, string>;
  /** Fields returned with each token as `metadata`. */
  metadata?: ProviderMetadataView;
  refreshToken?: ProviderRefreshTokenView;
  /**
   * The access token's documented lifetime.
   * @example 3600
   */
  accessTokenSeconds?: number;
  /**
   * Assumed when the answer has no expires_in.
   * @example 7200
   */
  defaultExpiresInSeconds?: number;
  /**
   * The provider refuses a refresh while the token has more than this many seconds left.
   * @example 30
   */
  refreshWindowSeconds?: number;
}
