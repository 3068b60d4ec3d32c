import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { AsyncLocalStorage } from 'node:async_hooks';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { ERROR_CODES } from '../common/broker-error';
import { BrokerMetrics, TOKEN_OUTCOMES, TokenOutcome } from '../metrics/broker-metrics';
import { AuditDetails, AuditEventEntity } from './audit-event.entity';

/**
 * The admin making the current request, for the audit rows its handler writes: the admin routes
 * run their handler inside `adminActorContext.run(...)`, and a row whose actor is that admin gets
 * the person's email beside it. (Services only pass the actor name; the email rides along here.)
 */
export const adminActorContext = new AsyncLocalStorage<{ actor: string; email?: string }>();

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
  'admin_token.create',
  'admin_token.delete',
  'admin.refused',
  'token.read',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export const AUDIT_TARGET_TYPES = [
  'integration',
  'connection',
  'client',
  'admin_token',
  'admin_route',
] as const;

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
/** Distinct refused-admin-request rows held per flush; a flood beyond it is counted in the last. */
const MAX_REFUSAL_ROWS = 200;

/** A refused admin request: who (if known), which route, why. Never the credential. */
export interface AdminRefusal {
  actor: string;
  route: string;
  outcome: 'unauthorized' | 'forbidden' | 'too_many_requests' | 'service_unavailable';
  reason: string;
  ip: string;
}

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
  /** Refused admin requests not written yet, by actor, route, outcome, reason and address. */
  private refusals = new Map<string, { refusal: AdminRefusal; count: number }>();
  private droppedRefusals = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    @InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>,
    private readonly metrics: BrokerMetrics,
  ) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async record(event: AuditRecord): Promise<void> {
    const current = adminActorContext.getStore();
    const actorEmail = current && current.actor === event.actor ? (current.email ?? null) : null;
    await this.events.insert({ ...toRow(event), actorEmail });
  }

  /**
   * A refused admin request, counted in memory and written with the next flush as one row per
   * (actor, route, outcome, reason, address) with the count: a flood of bad credentials costs at
   * most MAX_REFUSAL_ROWS rows a second, never one per request.
   */
  countAdminRefusal(refusal: AdminRefusal): void {
    const key = [refusal.actor, refusal.route, refusal.outcome, refusal.reason, refusal.ip].join('\n');
    const entry = this.refusals.get(key);
    if (entry) entry.count += 1;
    else if (this.refusals.size < MAX_REFUSAL_ROWS) this.refusals.set(key, { refusal, count: 1 });
    else this.droppedRefusals += 1;
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
    await this.flushRefusals();
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

  private async flushRefusals(): Promise<void> {
    if (this.refusals.size === 0) return;
    const batch = [...this.refusals.values()];
    const dropped = this.droppedRefusals;
    this.refusals = new Map();
    this.droppedRefusals = 0;
    const rows = batch.map(({ refusal, count }, index) =>
      toRow({
        action: 'admin.refused',
        actor: refusal.actor,
        targetType: 'admin_route',
        targetKey: refusal.route,
        outcome: refusal.outcome,
        details: {
          reason: refusal.reason,
          ip: refusal.ip,
          count,
          ...(index === batch.length - 1 && dropped > 0 ? { otherRefusals: dropped } : {}),
        },
      }),
    );
    try {
      await this.events.insert(rows);
    } catch (error) {
      // Refusals are evidence, not state: while Postgres is away they are logged, not kept.
      this.logger.warn({ err: error, rows: rows.length }, 'refused admin requests not audited');
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
