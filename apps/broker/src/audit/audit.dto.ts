import { Optional } from '../common/optional';
import { ToInteger } from '../common/dto-rules';
import { IsDateString, IsInt, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

export class ListAuditQuery {
  /**
   * Only this action, e.g. `token.read`, `connection.create`, `integration.update`.
   * @example "connection.refresh"
   */
  @Optional()
  @IsString()
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like "connection.create"' })
  action?: string;

  /** Only events about this integration, connection key or client id. */
  @Optional()
  @IsString()
  @MaxLength(128)
  target?: string;

  /** Only events by this actor (`admin`, `oauth-callback`, a client name). */
  @Optional()
  @IsString()
  @MaxLength(128)
  actor?: string;

  /** Only events at or after this time (ISO 8601). */
  @Optional()
  @IsDateString({}, { message: 'since must be an ISO 8601 date-time' })
  since?: string;

  /** At most this many, newest first (default 100, at most 1000). */
  @Optional()
  @ToInteger()
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}

export class AuditEventView {
  id: string;
  /** @example "token.read" */
  action: string;
  actor: string;
  targetType: string;
  targetKey: string | null;
  /** @example "ok" */
  outcome: string;
  details: Record<string, unknown> | null;
  createdAt: Date;
}
