import { Optional } from '../common/optional';
import { ToInteger } from '../common/dto-rules';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDateString, IsIn, IsInt, IsString, Max, MaxLength, Min } from 'class-validator';
import { AUDIT_ACTIONS, AUDIT_OUTCOMES, AUDIT_TARGET_TYPES } from '../audit/audit-log';

export class ListAuditQuery {
  /** Only this action. */
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS, example: 'connection.refresh' })
  @Optional()
  @IsIn(AUDIT_ACTIONS)
  action?: (typeof AUDIT_ACTIONS)[number];

  /**
   * Only events about this integration, connection key or client id.
   * @example "bloomerang-acme"
   */
  @Optional()
  @IsString()
  @MaxLength(128)
  target?: string;

  /**
   * Only events by this actor (`bootstrap`, `token:<name>`, `oidc:<subject>`, `oauth-callback`, a client name).
   * @example "oidc:248289761001"
   */
  @Optional()
  @IsString()
  @MaxLength(300)
  actor?: string;

  /**
   * Only events at or after this time (ISO 8601).
   * @example "2026-06-01T00:00:00Z"
   */
  @ApiPropertyOptional({ format: 'date-time' })
  @Optional()
  @IsDateString({}, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  /**
   * At most this many, newest first (default 100, at most 1000).
   * @example 100
   */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class AuditEventView {
  /**
   * Ascending with time.
   * @example "4711"
   */
  id: string;

  @ApiProperty({ enum: AUDIT_ACTIONS, example: 'token.read' })
  action: string;

  /**
   * Who: an admin (`bootstrap`, `token:<name>`, `oidc:<subject>`; `unauthenticated` for a refused
   * credential), `oauth-callback`, or the name of the client that read a token.
   * @example "oidc:248289761001"
   */
  actor: string;

  /**
   * The signed-in admin's email, when the identity provider gives one.
   * @example "jane@example.com"
   */
  actorEmail: string | null;

  @ApiProperty({ enum: AUDIT_TARGET_TYPES, example: 'connection' })
  targetType: string;

  /**
   * The integration or connection key, the client or admin token id, or the refused route.
   * @example "bloomerang-acme"
   */
  targetKey: string | null;

  /** How it ended: `ok`; a token read's outcome; the error code of a failed admin refresh; `refused`. */
  @ApiProperty({ enum: AUDIT_OUTCOMES, example: 'cache_hit' })
  outcome: string;

  /**
   * Facts about the event: changed field names, `count` of aggregated token reads or refused
   * admin requests (with the refusal `reason` and `ip`), an OAuth error.
   * @example { "count": 42 }
   */
  details: Record<string, unknown> | null;

  /** @example "2026-05-04T09:30:00.000Z" */
  createdAt: Date;
}
