import { Optional } from '../common/optional';
import { ScopeList, ToInteger } from '../common/dto-rules';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, IsString, Matches, Max, Min } from 'class-validator';
import { RESOURCE_KEY_PATTERN, RESOURCE_KEY_RULE } from '../common/keys';
import { CONNECTION_STATUSES } from './connection-status';

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
   * At most this many, oldest first (default 100, at most 1000).
   * @example 100
   */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /**
   * Skip this many.
   * @example 0
   */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  offset?: number;
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
}
