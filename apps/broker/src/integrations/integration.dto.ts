import { Optional } from '../common/optional';
import { ScopeList } from '../common/dto-rules';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsIn,
  IsNotEmpty,
  IsObject,
  IsString,
  Matches,
  MaxLength,
  ValidateBy,
  ValidationOptions,
} from 'class-validator';
import { RESOURCE_KEY_PATTERN, RESOURCE_KEY_RULE } from '../common/keys';
import { BASIC_AUTH_ENCODINGS, type BasicAuthEncoding } from '@broker/providers';
import { REFRESH_AHEAD_POLICIES, type RefreshAhead } from './integration.entity';

export const PROVIDERS = ['bloomerang', 'bloom', 'oauth2'] as const;
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

  /** Which protocol rules apply. */
  @ApiProperty({ enum: PROVIDERS, example: 'bloomerang' })
  @IsIn(PROVIDERS)
  provider: (typeof PROVIDERS)[number];

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
  /** @example { "resource": "https://api.example.com" } */
  extraTokenParams?: Record<string, string>;
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
