import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { ERROR_CODES } from '../common/broker-error';
import { BrokerMetrics, TOKEN_OUTCOMES, TokenOutcome } from '../metrics/broker-metrics';
import { AuditDetails, AuditEventEntity } from './audit-event.entity';

/** The actor recorded for calls made with the admin token. */
export const ADMIN_ACTOR = 'admin';

/** Every action the audit trail records; a new one is added here, so the API's enum stays true. */
export const AUDIT_ACTIONS = [
  'integration.create',
  'integration.update',
  'integration.delete',
  'connection.create',
  'connection.import',
  'connection.authorize',
  'connection.authorized',
  'connection.refresh',
  'connection.delete',
  'client.create',
  'client.delete',
  'token.read',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGET_TYPES = ['integration', 'connection', 'client'] as const;

/**
 * How an event ended: `ok`; for token reads the token path's outcome (`cache_hit`, `forbidden`…);
 * for an admin refresh the error code it failed with; `refused` when the account's user (or the
 * provider) refused an authorization, its OAuth error in `details.error`; `partial` for a bulk
 * import in which not every item became active (the counts in `details`).
 */
export const AUDIT_OUTCOMES = [
  ...new Set(['ok', 'refused', 'error', 'partial', ...TOKEN_OUTCOMES, ...ERROR_CODES]),
];
export type AuditOutcome =
  'ok' | 'refused' | 'error' | 'partial' | (typeof TOKEN_OUTCOMES)[number] | (typeof ERROR_CODES)[number];

export interface AuditRecord {
  action: AuditAction;
  actor: string;
  targetType: (typeof AUDIT_TARGET_TYPES)[number];
  targetKey?: string | null;
  outcome?: AuditOutcome;
  details?: AuditDetails;
}

const FLUSH_INTERVAL_MS = 1_000;
const MAX_BUFFERED = 5_000;

/**
 * Admin changes are written at once. Token reads are counted in memory and written once a second
 * as one row per (actor, connection, outcome) with the count, so the token path never waits for
 * an insert and a busy caller costs one row a second, not one per read.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditLog.name);
  /** Token reads not written yet: actor → connection → outcome → count. */
  private pending = new Map<string, Map<string, Map<TokenOutcome, number>>>();
  private pendingRows = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    private readonly metrics: BrokerMetrics,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async record(event: AuditRecord): Promise<void> {
    await this.events.insert(toRow(event));
  }

  /**
   * A token read, counted in memory: never blocks the caller. Keyed by actor, then connection,
   * then outcome, so counting builds no key text on the route every caller hits.
   */
  countTokenRead(actor: string, connection: string, outcome: TokenOutcome): void {
    this.addTokenReads(actor, connection, outcome, 1);
  }

  private addTokenReads(actor: string, connection: string, outcome: TokenOutcome, reads: number): void {
    const counts = this.pending.get(actor)?.get(connection);
    const counted = counts?.get(outcome);
    if (counted !== undefined) {
      counts!.set(outcome, counted + reads);
      return;
    }
    if (this.pendingRows >= MAX_BUFFERED) return;
    let byConnection = this.pending.get(actor);
    if (byConnection === undefined) this.pending.set(actor, (byConnection = new Map()));
    let byOutcome = byConnection.get(connection);
    if (byOutcome === undefined) byConnection.set(connection, (byOutcome = new Map()));
    byOutcome.set(outcome, reads);
    this.pendingRows += 1;
  }

  async flush(): Promise<void> {
    if (this.pendingRows === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.pendingRows = 0;
    const rows: { row: Partial<AuditEventEntity>; requeue: () => void }[] = [];
    for (const [actor, byConnection] of batch) {
      for (const [connection, byOutcome] of byConnection) {
        for (const [outcome, count] of byOutcome) {
          rows.push({
            row: toRow({
              action: 'token.read',
              actor,
              targetType: 'connection',
              targetKey: connection,
              outcome,
              details: { count },
            }),
            requeue: () => this.addTokenReads(actor, connection, outcome, count),
          });
        }
      }
    }
    try {
      await this.events.insert(rows.map(({ row }) => row));
    } catch (error) {
      if (!isRowRefusal(error)) {
        // While Postgres is away the counts are kept (bounded); the audit trail must not block tokens.
        for (const { requeue } of rows) requeue();
        this.logger.warn({ err: error, pending: this.pendingRows }, 'audit batch not written yet');
        return;
      }
      await this.insertOneByOne(rows);
    }
  }

  /**
   * Postgres refused the batch for what one row holds: each row is written alone, so one bad row
   * never blocks the others; refused rows are dropped, counted and reported, never retried.
   */
  private async insertOneByOne(
    rows: { row: Partial<AuditEventEntity>; requeue: () => void }[],
  ): Promise<void> {
    let dropped = 0;
    let firstRefusal: unknown;
    for (const { row, requeue } of rows) {
      try {
        await this.events.insert(row);
      } catch (error) {
        if (!isRowRefusal(error)) {
          requeue();
          continue;
        }
        dropped += 1;
        firstRefusal ??= error;
      }
    }
    if (dropped > 0) {
      this.metrics.auditRowDropped(dropped);
      this.logger.error(
        { dropped, reason: (firstRefusal as { message?: string })?.message },
        'audit rows refused by Postgres were dropped; the others were written',
      );
    }
  }

  async prune(retentionDays: number): Promise<number> {
    const cutoff = new Date(Date.now() - retentionDays * 86_400_000);
    const result = await this.events.delete({ createdAt: LessThan(cutoff) });
    return result.affected ?? 0;
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }
}

function toRow(event: AuditRecord): Partial<AuditEventEntity> {
  return {
    action: event.action,
    actor: event.actor,
    targetType: event.targetType,
    targetKey: event.targetKey ?? null,
    outcome: event.outcome ?? 'ok',
    details: event.details ?? null,
  };
}

/**
 * Postgres refused the data itself (SQLSTATE class 22 data exception or 23 integrity violation):
 * the same row would fail again, unlike a connection that is down.
 */
function isRowRefusal(error: unknown): boolean {
  const code =
    (error as { code?: unknown; driverError?: { code?: unknown } })?.driverError?.code ??
    (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}
