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
  /** Only connections of this integration. */
  @Optional()
  @IsString()
  @Matches(RESOURCE_KEY_PATTERN, { message: `integration ${RESOURCE_KEY_RULE}` })
  integration?: string;

  @ApiPropertyOptional({ enum: CONNECTION_STATUSES })
  @Optional()
  @IsIn(CONNECTION_STATUSES)
  status?: (typeof CONNECTION_STATUSES)[number];

  /** At most this many, oldest first (default 100, at most 1000). */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;

  /** Skip this many. */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(0)
  offset?: number;
}

export class ConnectionView {
  /** @example "bloomerang-acme" */
  key: string;
  /** The integration's key. */
  integration: string;
  @ApiProperty({ enum: CONNECTION_STATUSES })
  status: string;
  /** Scope granted with the current token. */
  scope: string | null;
  /** When the current access token expires. */
  expiresAt: Date | null;
  lastRefreshedAt: Date | null;
  /** When the scheduler will refresh next. */
  nextRefreshAt: Date | null;
  /** What went wrong last, in words an admin can act on. */
  lastError: string | null;
  /** The class of the last error: needs_reauthorization, misconfigured, transient, invalid_response, access_denied… */
  lastErrorCode: string | null;
  /** When the stored refresh token lapses, when the provider says so. */
  refreshTokenExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** Where to send the account's user (only when an authorization was just started). */
  authorizationUrl?: string;
  /** When that authorization URL stops working. */
  authorizationExpiresAt?: Date;
}
