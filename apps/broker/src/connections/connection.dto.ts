import { Optional } from '../common/optional';
import { ScopeList, ToInteger } from '../common/dto-rules';
import { ApiProperty, ApiPropertyOptional, OmitType } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsObject,
  ValidateBy,
  IsIn,
  IsInt,
  IsISO8601,
  IsString,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import { RESOURCE_KEY_PATTERN, RESOURCE_KEY_RULE } from '../common/keys';
import { CONNECTION_STATUSES } from './connection-status';

/** Most items in one `POST /admin/connections/import`. */
export const MAX_IMPORT_ITEMS = 1000;
/** The bulk import's body limit (every other body: 64 KiB); 1,000 items with long JWTs fit. */
export const IMPORT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
export const IMPORT_ROUTE = '/admin/connections/import';

export const IMPORT_RESULT_STATUSES = [
  'active',
  'needs_reauthorization',
  'error',
  'exists',
  'invalid',
] as const;
export type ImportResultStatus = (typeof IMPORT_RESULT_STATUSES)[number];

/** RFC 6749 appendix A: tokens are visible ASCII characters and spaces (VSCHAR). */
const TOKEN_CHARACTERS = /^[\x20-\x7E]+$/;
const TOKEN_CHARACTERS_RULE = '$property must be visible ASCII characters (RFC 6749 VSCHAR)';
/** A date and time with a zone: a bare date or a local time would be read differently by every reader. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const ISO_DATE_TIME_RULE = 'must be an ISO 8601 date and time with a time zone, such as 2026-12-01T16:00:00Z';
const SCOPE_STRING = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

export class CreateConnectionDto {
  /**
   * Chosen by the admin; the `:connection` of `GET /tokens/:connection`.
   * @example "bloomerang-acme"
   */
  @IsString()
  @Matches(RESOURCE_KEY_PATTERN, { message: `key ${RESOURCE_KEY_RULE}` })
  key: string;

  /**
   * The key of the integration this connection belongs to.
   * @example "bloomerang-prod"
   */
  @IsString()
  @Matches(RESOURCE_KEY_PATTERN, { message: `integration ${RESOURCE_KEY_RULE}` })
  integration: string;

  /**
   * Scopes for this connection instead of the integration's.
   * @example ["Standard"]
   */
  @Optional()
  @ScopeList()
  scopes?: string[];

  /**
   * The values the provider's catalogue entry asks of each connection (`GET /admin/providers`
   * lists them with their patterns), e.g. Shopify's `shop`; substituted, URL-encoded, into the
   * `{name}` placeholders of the authorization and token URLs. Not secret.
   * @example { "shop": "acme" }
   */
  @Optional()
  @IsObject()
  @ValidateBy({
    name: 'isConfigRecord',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'object' &&
        value !== null &&
        !Array.isArray(value) &&
        Object.keys(value).length <= 10 &&
        Object.entries(value).every(
          ([name, v]) =>
            /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(name) && typeof v === 'string' && v.length <= 255,
        ),
      defaultMessage: () =>
        '$property must be an object of at most 10 string values (each at most 255 characters)',
    },
  })
  config?: Record<string, string>;

  /**
   * Import: the refresh token of a connection authorized elsewhere (another broker, your own
   * tables). Authorization-code integrations only. Write-only: stored encrypted, never returned.
   * Without a usable `accessToken` it is used for one refresh at once, so a dead one shows at import.
   */
  @ApiPropertyOptional({ writeOnly: true, minLength: 1, maxLength: 4096, example: 'd1e6f0b0c5a44a3f8d2e' })
  @Optional()
  @IsString()
  @Length(1, 4096)
  @Matches(TOKEN_CHARACTERS, { message: TOKEN_CHARACTERS_RULE })
  refreshToken?: string;

  /**
   * Import: the connection's current access token, with `expiresAt`. Write-only. When it has
   * more than a minute left, no refresh happens at import; the scheduler renews it in time.
   */
  @ApiPropertyOptional({ writeOnly: true, minLength: 1, maxLength: 8192, example: 'b5c0e8a2f7d94e61' })
  @Optional()
  @IsString()
  @Length(1, 8192)
  @Matches(TOKEN_CHARACTERS, { message: TOKEN_CHARACTERS_RULE })
  accessToken?: string;

  /** Import: when `accessToken` expires, ISO 8601 with a time zone. Required with `accessToken`. */
  @ApiPropertyOptional({ format: 'date-time', example: '2026-12-01T16:00:00Z' })
  @Optional()
  @IsString()
  @Matches(ISO_DATE_TIME, { message: `expiresAt ${ISO_DATE_TIME_RULE}` })
  @IsISO8601({ strict: true }, { message: `expiresAt ${ISO_DATE_TIME_RULE}` })
  expiresAt?: string;

  /**
   * Import: the scope granted with the current tokens, space-separated as the provider sent it.
   * @example "OrgAdmin"
   */
  @Optional()
  @IsString()
  @MaxLength(2000)
  @Matches(SCOPE_STRING, { message: 'scope must be space-separated scope tokens without quotes' })
  scope?: string;

  /** Import: when the refresh token lapses, if the provider said so (ISO 8601 with a time zone). */
  @ApiPropertyOptional({ format: 'date-time', example: '2027-03-01T16:00:00Z' })
  @Optional()
  @IsString()
  @Matches(ISO_DATE_TIME, { message: `refreshTokenExpiresAt ${ISO_DATE_TIME_RULE}` })
  @IsISO8601({ strict: true }, { message: `refreshTokenExpiresAt ${ISO_DATE_TIME_RULE}` })
  refreshTokenExpiresAt?: string;
}

/** One item of a bulk import: as `POST /admin/connections`, with `refreshToken` required. */
export class ImportConnectionDto extends OmitType(CreateConnectionDto, ['refreshToken'] as const) {
  /** The refresh token of the connection being imported. Write-only: stored encrypted, never returned. */
  @ApiProperty({ writeOnly: true, minLength: 1, maxLength: 4096, example: 'd1e6f0b0c5a44a3f8d2e' })
  // Required: checkImportItem says so in one message instead of every rule below failing at once.
  @Optional()
  @IsString()
  @Length(1, 4096)
  @Matches(TOKEN_CHARACTERS, { message: TOKEN_CHARACTERS_RULE })
  refreshToken: string;
}

export class ImportConnectionsDto {
  /**
   * 1 to 1,000 connections, each checked on its own: a wrong item gets its own `error` in the
   * results and does not stop the others.
   */
  @ApiProperty({ type: [ImportConnectionDto], minItems: 1, maxItems: MAX_IMPORT_ITEMS })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_IMPORT_ITEMS)
  connections: unknown[];
}

export class ImportResultView {
  /** The item's key, or null when it had no well-formed one. */
  @ApiProperty({ type: String, nullable: true, example: 'bloomerang-acme' })
  key: string | null;

  /**
   * The connection's status after the import (`active`, `needs_reauthorization` when the refresh
   * token proved dead, `error` when the provider failed otherwise); `exists` when the key was
   * taken already (that connection is left as it is, not refreshed); `invalid` when the item was
   * refused and nothing was written.
   */
  @ApiProperty({ enum: IMPORT_RESULT_STATUSES, example: 'active' })
  status: ImportResultStatus;

  /** What went wrong, or why nothing was written; absent on success. */
  @ApiPropertyOptional({ example: 'expiresAt is required with accessToken' })
  error?: string;
}

export class ImportConnectionsView {
  /** One result per item, in the order of the request. */
  @ApiProperty({ type: [ImportResultView] })
  results: ImportResultView[];
}

export class ListConnectionsQuery {
  /**
   * Only connections of this integration.
   * @example "bloomerang-prod"
   */
  @Optional()
  @IsString()
  @Matches(RESOURCE_KEY_PATTERN, { message: `integration ${RESOURCE_KEY_RULE}` })
  integration?: string;

  /** Only connections in this state. */
  @ApiPropertyOptional({ enum: CONNECTION_STATUSES, example: 'active' })
  @Optional()
  @IsIn(CONNECTION_STATUSES)
  status?: (typeof CONNECTION_STATUSES)[number];

  /**
   * At most this many, oldest first, or in key order with `after` (default 100, at most 1000).
   * @example 100
   */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /**
   * Skip this many. On a large table prefer `after`: skipping reads every skipped row.
   * @example 0
   */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  offset?: number;

  /**
   * Cursor paging, in key order (instead of oldest first): only connections whose key sorts
   * after this one. Start with `after=` (empty), then pass the last key of each page; an empty
   * page is the end. Every page costs the same, however deep.
   * @example "acme-crm-000999"
   */
  @Optional()
  @IsString()
  @ValidateIf((query: ListConnectionsQuery) => query.after !== '')
  @Matches(RESOURCE_KEY_PATTERN, { message: `after must be empty or a key: ${RESOURCE_KEY_RULE}` })
  after?: string;
}

export class ConnectionView {
  /** @example "bloomerang-acme" */
  key: string;
  /**
   * The integration's key.
   * @example "bloomerang-prod"
   */
  integration: string;
  @ApiProperty({ enum: CONNECTION_STATUSES, example: 'active' })
  status: string;
  /**
   * Scope granted with the current token.
   * @example "OrgAdmin"
   */
  scope: string | null;
  /**
   * When the current access token expires.
   * @example "2026-06-01T12:00:00.000Z"
   */
  expiresAt: Date | null;
  /** @example "2026-06-01T11:00:00.000Z" */
  lastRefreshedAt: Date | null;
  /**
   * When the scheduler will refresh next.
   * @example "2026-06-01T11:55:00.000Z"
   */
  nextRefreshAt: Date | null;
  /**
   * What went wrong last, in words an admin can act on.
   * @example "the provider answered invalid_grant: the refresh token was revoked"
   */
  lastError: string | null;
  /**
   * The class of the last error: `needs_reauthorization`, `misconfigured`, `transient`,
   * `invalid_response`, `access_denied`, or the OAuth error an account's user answered with.
   * @example "needs_reauthorization"
   */
  lastErrorCode: string | null;
  /**
   * When the stored refresh token lapses, when the provider says so.
   * @example "2026-12-01T11:00:00.000Z"
   */
  refreshTokenExpiresAt: Date | null;
  /**
   * The values given for the provider's config fields (absent when it has none).
   * @example { "shop": "acme" }
   */
  config?: Record<string, string>;
  /**
   * Fields the provider's entry keeps from its answers, under the provider's names; also returned
   * with each token. Absent when the entry keeps none.
   * @example { "instance_url": "https://acme.my.salesforce.com" }
   */
  metadata?: Record<string, unknown>;
  /** @example "2026-05-04T09:30:00.000Z" */
  createdAt: Date;
  /** @example "2026-06-01T11:00:00.000Z" */
  updatedAt: Date;
  /**
   * Where to send the account's user (only when an authorization was just started).
   * @example "https://crm.bloomerang.co/Authorize?response_type=code&client_id=s6BhdRkqt3&state=…"
   */
  authorizationUrl?: string;
  /**
   * When that authorization URL stops working.
   * @example "2026-06-01T11:10:00.000Z"
   */
  authorizationExpiresAt?: Date;
}

/** The query the provider sends the account's user back with. */
export class CallbackQuery {
  /**
   * The single-use state of the authorization URL.
   * @example "Vq3yB9Jd0kQ2hXr5tW8mZcLpE1sNaUoF4gHjKiYvRb0"
   */
  state?: string;
  /**
   * The authorization code, when the user agreed.
   * @example "SplxlOBeZQQYbYS6WxSbIA"
   */
  code?: string;
  /**
   * The OAuth error, when the user or the provider refused.
   * @example "access_denied"
   */
  error?: string;
  /**
   * The provider's words about that error.
   * @example "The user denied access"
   */
  error_description?: string;
}

export class CallbackResultView {
  /** @example "bloomerang-acme" */
  connection: string;
  @ApiProperty({ enum: ['active'], example: 'active' })
  status: string;
  @ApiProperty({ example: 'connection "bloomerang-acme" is active' })
  message: string;
  /**
   * Set when the grant came without the refresh token the provider issues: what was asked and what
   * to change (also the connection's `lastError`). The connection works until its access token expires.
   */
  warning?: string;
}
