import { Optional } from '../common/optional';
import { ScopeList } from '../common/dto-rules';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { RESOURCE_KEY_PATTERN, RESOURCE_KEY_RULE } from '../common/keys';
import {
  BASIC_AUTH_ENCODINGS,
  CATALOGUE_IDS,
  REFRESH_TOKEN_ROTATIONS,
  SCOPE_SEPARATORS,
  type BasicAuthEncoding,
  type RefreshTokenRotation,
} from '@broker/providers';
import { REFRESH_AHEAD_POLICIES, type RefreshAhead } from '../model/integration.entity';

/** Every catalogue id (`GET /admin/providers`). */
export const PROVIDERS = CATALOGUE_IDS;
export const PKCE_METHODS = ['S256', 'none'] as const;
export const BLOOM_ENVIRONMENTS = ['sandbox', 'production'] as const;
export const BLOOM_AUTH_VERSIONS = ['v2', 'v1'] as const;
export const GRANT_TYPES = ['authorization_code', 'client_credentials'] as const;
export const TOKEN_AUTH_METHODS = ['client_secret_basic', 'client_secret_post'] as const;

/** A flat object of string values, for `extraTokenParams`. */
function IsStringRecord(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStringRecord',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          Object.keys(value).length <= 20 &&
          Object.entries(value).every(
            ([name, v]) => /^[A-Za-z0-9_.-]{1,64}$/.test(name) && typeof v === 'string' && v.length <= 1000,
          ),
        defaultMessage: () =>
          '$property must be an object of at most 20 string values with names of letters, digits, "_", "." or "-"',
      },
    },
    options,
  );
}

const FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** oauth2: which answer fields to keep with the connection and return with each token. */
export class MetadataFieldsDto {
  /**
   * Fields of the token endpoint's JSON answer, e.g. `instance_url`; updated on each answer that has them.
   * @example ["instance_url"]
   */
  @Optional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(FIELD_NAME, { each: true, message: 'each value in $property must be a field name' })
  tokenResponse?: string[];

  /**
   * Query parameters of the authorization callback, e.g. `realmId`.
   * @example ["realmId"]
   */
  @Optional()
  @IsArray()
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(FIELD_NAME, { each: true, message: 'each value in $property must be a field name' })
  callback?: string[];
}

/** What earns a refresh token: asked on every authorization, whatever `scopes` name. */
export class RefreshEarningDto {
  /**
   * Scopes that make the provider issue a refresh token.
   * @example ["offline_access"]
   */
  @Optional()
  @ScopeList()
  scopes?: string[];

  /**
   * Authorization URL parameters that make the provider issue a refresh token.
   * @example { "access_type": "offline", "prompt": "consent" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  authorizationParams?: Record<string, string>;
}

/** oauth2: a value each connection supplies, substituted into `{name}` of the URLs. */
export class ConfigFieldDto {
  /**
   * The `{name}` placeholder.
   * @example "shop"
   */
  @IsString()
  @Matches(/^[A-Za-z][A-Za-z0-9_]{0,31}$/, {
    message: 'name must be a letter then up to 31 letters, digits or "_"',
  })
  name: string;

  /**
   * A regular expression the whole value must match.
   * @example "[a-z0-9][a-z0-9-]{0,62}"
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  pattern: string;

  /** @example "the account's subdomain" */
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  description: string;
}

/** Settings shared by create and update; the per-provider rules are checked by `resolveProvider`. */
export class IntegrationSettingsDto {
  /**
   * Scopes to ask for. Bloomerang: one of `Standard`, `StandardEditFinancialData`, `OrgAdmin`.
   * Bloom v2: e.g. `["data-access:all","furnishment:all"]`.
   * @example ["OrgAdmin"]
   */
  @Optional()
  @ScopeList()
  scopes?: string[];

  /**
   * Overrides the provider's authorization endpoint (sandboxes, tests). https, or http on loopback.
   * @example "https://crm.bloomerang.co/Authorize"
   */
  @Optional()
  @IsString()
  @MaxLength(2000)
  authorizationUrl?: string;

  /**
   * Overrides the provider's token endpoint (sandboxes, tests). https, or http on loopback.
   * @example "https://api.bloomerang.co/v2/oauth/token"
   */
  @Optional()
  @IsString()
  @MaxLength(2000)
  tokenUrl?: string;

  /**
   * Bloom: the API audience of the target environment.
   * @example "dev-api.bloom.dev"
   */
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(500)
  audience?: string;

  /** Bloom: which Bloom environment; defaults to sandbox. */
  @ApiPropertyOptional({ enum: BLOOM_ENVIRONMENTS, example: 'sandbox' })
  @Optional()
  @IsIn(BLOOM_ENVIRONMENTS)
  environment?: (typeof BLOOM_ENVIRONMENTS)[number];

  /** Bloom: `v2` (`/oauth2/token`, with scope) or the legacy `v1` (`/oauth/token`, no scope); defaults to v2. */
  @ApiPropertyOptional({ enum: BLOOM_AUTH_VERSIONS, example: 'v2' })
  @Optional()
  @IsIn(BLOOM_AUTH_VERSIONS)
  authVersion?: (typeof BLOOM_AUTH_VERSIONS)[number];

  /** oauth2: the grant this provider uses. */
  @ApiPropertyOptional({ enum: GRANT_TYPES, example: 'client_credentials' })
  @Optional()
  @IsIn(GRANT_TYPES)
  grantType?: (typeof GRANT_TYPES)[number];

  /** oauth2: how the client authenticates at the token endpoint; defaults to client_secret_basic. */
  @ApiPropertyOptional({ enum: TOKEN_AUTH_METHODS, example: 'client_secret_basic' })
  @Optional()
  @IsIn(TOKEN_AUTH_METHODS)
  tokenAuthMethod?: (typeof TOKEN_AUTH_METHODS)[number];

  /**
   * oauth2 with client_secret_basic: how the client id and secret are written into
   * `Authorization: Basic`. `form` (default) percent-encodes all but `A-Za-z0-9-._~`, which servers
   * that decode (RFC 6749 2.3.1) and servers that do not both accept; `raw` sends them as they are
   * (a client id with ":" is then refused); `strict` escapes everything but letters and digits.
   */
  @ApiPropertyOptional({ enum: BASIC_AUTH_ENCODINGS, example: 'form' })
  @Optional()
  @IsIn(BASIC_AUTH_ENCODINGS)
  basicAuthEncoding?: BasicAuthEncoding;

  /**
   * oauth2: extra form parameters sent with every token request (e.g. `resource`).
   * @example { "resource": "https://api.example.com" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  extraTokenParams?: Record<string, string>;

  /** oauth2: PKCE with an S256 code challenge, or none (default). */
  @ApiPropertyOptional({ enum: PKCE_METHODS, example: 'S256' })
  @Optional()
  @IsIn(PKCE_METHODS)
  pkce?: (typeof PKCE_METHODS)[number];

  /**
   * oauth2: extra query parameters of the authorization URL.
   * @example { "access_type": "offline", "prompt": "consent" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  authorizationParams?: Record<string, string>;

  /** oauth2: how scopes are joined in the `scope` parameter; `" "` (default) or `","`. */
  @ApiPropertyOptional({ enum: SCOPE_SEPARATORS, example: ' ' })
  @Optional()
  @IsIn(SCOPE_SEPARATORS)
  scopeSeparator?: string;

  /**
   * oauth2: extra form parameters of each refresh.
   * @example { "resource": "https://api.example.com" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  refreshParams?: Record<string, string>;

  /**
   * oauth2: extra form parameters of the code exchange.
   * @example { "expiring": "1" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  codeExchangeParams?: Record<string, string>;

  /** oauth2: answer fields kept with the connection and returned with each token as `metadata`. */
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => MetadataFieldsDto)
  metadata?: MetadataFieldsDto;

  /**
   * oauth2: what earns a refresh token (scopes such as `offline_access`, parameters such as
   * `access_type=offline`), asked on every authorization whatever `scopes` the integration or the
   * connection names. Setting it also says the provider issues a refresh token: a grant without one
   * is shown on the connection (`lastError`).
   */
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => RefreshEarningDto)
  refreshEarning?: RefreshEarningDto;

  /** oauth2: values each connection must give (`POST /admin/connections` `config`), used in `{name}` of the URLs. */
  @ApiPropertyOptional({ type: [ConfigFieldDto] })
  @Optional()
  @IsArray()
  @ArrayMaxSize(10)
  @ValidateNested({ each: true })
  @Type(() => ConfigFieldDto)
  config?: ConfigFieldDto[];

  /** oauth2: how the provider rotates refresh tokens (informational, and for the admin view). */
  @ApiPropertyOptional({ enum: REFRESH_TOKEN_ROTATIONS, example: 'single_use' })
  @Optional()
  @IsIn(REFRESH_TOKEN_ROTATIONS)
  refreshTokenRotation?: RefreshTokenRotation;

  /** oauth2 with refreshTokenRotation "grace": how long the previous refresh token keeps working. */
  @ApiPropertyOptional({ minimum: 1, maximum: 86400, example: 1800 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  refreshTokenGraceSeconds?: number;

  /** oauth2: a refresh token's life from issue when the answer does not say (refresh_token_expires_in). */
  @ApiPropertyOptional({ minimum: 1, example: 7776000 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(10 * 366 * 86_400)
  refreshTokenLifetimeSeconds?: number;

  /** oauth2: a refresh token dies when unused this long; the scheduler uses it in time. */
  @ApiPropertyOptional({ minimum: 1, example: 5184000 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(10 * 366 * 86_400)
  refreshTokenIdleSeconds?: number;

  /** oauth2: the access token's lifetime when the answer has no expires_in (default `BROKER_DEFAULT_EXPIRES_IN`). */
  @ApiPropertyOptional({ minimum: 1, example: 7200 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(366 * 86_400)
  defaultExpiresInSeconds?: number;

  /**
   * oauth2: the provider refuses a refresh while the access token has more than this many seconds
   * left; the broker refreshes no earlier and answers the current token meanwhile.
   */
  @ApiPropertyOptional({ minimum: 1, maximum: 86400, example: 30 })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(86_400)
  refreshWindowSeconds?: number;

  /**
   * oauth2: the provider's own error codes read as RFC 6749 codes (`invalid_grant` means the
   * account must authorize again). Errors sent as HTTP 200 (`{ ok: false, error }`, `{ error }`)
   * or as an object are recognised whatever this says.
   * @example { "bad_refresh_token": "invalid_grant" }
   */
  @Optional()
  @IsObject()
  @IsStringRecord()
  errorCodes?: Record<string, string>;

  /**
   * oauth2: `token_type` values the provider sends for what is a bearer token.
   * @example ["bot", "user"]
   */
  @Optional()
  @IsArray()
  @ArrayMaxSize(10)
  @IsString({ each: true })
  @Matches(/^[A-Za-z0-9_.-]{1,32}$/, { each: true, message: 'each value in $property must be a token type' })
  bearerTokenTypes?: string[];

  /**
   * oauth2: a closed list of the provider's scopes; a scope outside it (on the integration or a
   * connection) is a 400 naming it.
   * @example ["read", "write"]
   */
  @Optional()
  @ScopeList()
  allowedScopes?: string[];

  /** oauth2: the provider's token answer has no `token_type`; its tokens are bearer tokens. */
  @ApiPropertyOptional({ example: true })
  @Optional()
  @IsBoolean()
  tokenTypeOptional?: boolean;

  /**
   * oauth2: a non-standard answer field holding the refresh token's lifetime in seconds.
   * @example "x_refresh_token_expires_in"
   */
  @Optional()
  @IsString()
  @Matches(FIELD_NAME, { message: 'refreshTokenExpiresInField must be a field name' })
  refreshTokenExpiresInField?: string;
  /**
   * Refresh policy: `always` (default) refreshes every token before it expires; `when_read`
   * refreshes ahead only connections read recently, the rest when they are next read. Under both,
   * a refresh token is used before it would expire unused.
   */
  @ApiPropertyOptional({ enum: REFRESH_AHEAD_POLICIES, example: 'always' })
  @Optional()
  @IsIn(REFRESH_AHEAD_POLICIES)
  refreshAhead?: RefreshAhead;
}

export class CreateIntegrationDto extends IntegrationSettingsDto {
  /**
   * Chosen by the admin; identifies the integration in every other call.
   * @example "bloomerang-prod"
   */
  @IsString()
  @Matches(RESOURCE_KEY_PATTERN, { message: `key ${RESOURCE_KEY_RULE}` })
  key: string;

  /** A catalogue id (`GET /admin/providers`): which protocol rules apply. */
  @ApiProperty({ enum: PROVIDERS, example: 'bloomerang' })
  @IsString()
  @IsIn(PROVIDERS, {
    message: ({ value }) =>
      `provider "${String(value).slice(0, 64)}" is not in the catalogue; GET /admin/providers lists the ids`,
  })
  provider: string;

  /**
   * The client id the provider issued.
   * @example "s6BhdRkqt3"
   */
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  clientId: string;

  /** The client secret the provider issued. Write-only: stored encrypted, never returned. */
  @ApiProperty({ writeOnly: true, example: 'gX1fBat3bV' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  clientSecret: string;
}

export class UpdateIntegrationDto extends IntegrationSettingsDto {
  /**
   * A new client id.
   * @example "s6BhdRkqt3"
   */
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(512)
  clientId?: string;

  /** Rotates the client secret. Write-only. */
  @ApiPropertyOptional({ writeOnly: true, example: '7Fjfp0ZBr1KtDRbnfVdmIw' })
  @Optional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(4096)
  clientSecret?: string;
}

export class IntegrationView {
  /** @example "bloomerang-prod" */
  key: string;
  @ApiProperty({ enum: PROVIDERS, example: 'bloomerang' })
  provider: string;
  /** @example "s6BhdRkqt3" */
  clientId: string;
  /**
   * Always true: the secret is stored encrypted and never shown.
   * @example true
   */
  hasClientSecret: boolean;
  @ApiProperty({ enum: GRANT_TYPES, example: 'authorization_code' })
  grantType: string;
  /** @example ["OrgAdmin"] */
  scopes: string[];
  /**
   * The authorization endpoint in use (authorization code flow only).
   * @example "https://crm.bloomerang.co/Authorize"
   */
  authorizationUrl?: string;
  /**
   * The token endpoint in use.
   * @example "https://api.bloomerang.co/v2/oauth/token"
   */
  tokenUrl: string;
  @ApiProperty({ enum: TOKEN_AUTH_METHODS, example: 'client_secret_basic' })
  tokenAuthMethod: string;
  /** How client_secret_basic writes the id and secret (absent with client_secret_post). */
  @ApiPropertyOptional({ enum: BASIC_AUTH_ENCODINGS, example: 'form' })
  basicAuthEncoding?: string;
  /**
   * Bloom only.
   * @example "dev-api.bloom.dev"
   */
  audience?: string;
  /** Bloom only. */
  @ApiPropertyOptional({ enum: BLOOM_ENVIRONMENTS, example: 'sandbox' })
  environment?: string;
  /** Bloom only. */
  @ApiPropertyOptional({ enum: BLOOM_AUTH_VERSIONS, example: 'v2' })
  authVersion?: string;
  /**
   * Shown to `admin` only (free-form: may hold an assertion or a key).
   * @example { "resource": "https://api.example.com" }
   */
  extraTokenParams?: Record<string, string>;
  @ApiPropertyOptional({ enum: PKCE_METHODS })
  pkce?: string;
  /** @example ["shop"] */
  scopeSeparator?: string;
  /**
   * Shown to `admin` only (free-form: may hold an assertion or a key).
   * @example { "access_type": "offline" }
   */
  authorizationParams?: Record<string, string>;
  /** Shown to `admin` only (free-form: may hold an assertion or a key). */
  refreshParams?: Record<string, string>;
  /** Shown to `admin` only (free-form: may hold an assertion or a key). */
  codeExchangeParams?: Record<string, string>;
  /** The answer fields kept as each connection's `metadata`. */
  metadata?: MetadataFieldsDto;
  /** What earns a refresh token, asked on every authorization. */
  refreshEarning?: RefreshEarningDto;
  /** What each connection must give as `config`. */
  @ApiPropertyOptional({ type: [ConfigFieldDto] })
  config?: ConfigFieldDto[];
  @ApiPropertyOptional({ enum: REFRESH_TOKEN_ROTATIONS })
  refreshTokenRotation?: string;
  refreshTokenGraceSeconds?: number;
  refreshTokenLifetimeSeconds?: number;
  refreshTokenIdleSeconds?: number;
  defaultExpiresInSeconds?: number;
  refreshWindowSeconds?: number;
  errorCodes?: Record<string, string>;
  bearerTokenTypes?: string[];
  tokenTypeOptional?: boolean;
  refreshTokenExpiresInField?: string;
  /** @example ["read", "write"] */
  allowedScopes?: string[];
  /** Refresh policy (contract "Refresh policy"). */
  @ApiProperty({ enum: REFRESH_AHEAD_POLICIES, example: 'always' })
  refreshAhead: RefreshAhead;
  /**
   * Register this redirect URI with the provider (authorization code flow only).
   * @example "https://broker.example.com/oauth/callback"
   */
  redirectUri?: string;
  /** @example "2026-05-04T09:30:00.000Z" */
  createdAt: Date;
  /** @example "2026-06-01T11:00:00.000Z" */
  updatedAt: Date;
}
