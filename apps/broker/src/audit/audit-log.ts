import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { AuditDetails, AuditEventEntity } from './audit-event.entity';

/** The actor recorded for calls made with the admin token. */
export const ADMIN_ACTOR = 'admin';

export interface AuditRecord {
  action: string;
  actor: string;
  targetType: string;
  targetKey?: string | null;
  outcome?: string;
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
  private pending = new Map<string, { event: AuditRecord; count: number }>();
  private readonly timer: NodeJS.Timeout;

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async record(event: AuditRecord): Promise<void> {
    await this.events.insert(toRow(event));
  }

  /** For high-volume events: counted, never blocks the caller. */
  recordLater(event: AuditRecord): void {
    const key = `${event.action}\u0000${event.actor}\u0000${event.targetKey ?? ''}\u0000${event.outcome ?? 'ok'}`;
    const entry = this.pending.get(key);
    if (entry) entry.count += 1;
    else if (this.pending.size < MAX_BUFFERED) this.pending.set(key, { event, count: 1 });
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.events.insert(
        [...batch.values()].map(({ event, count }) =>
          toRow({ ...event, details: { ...event.details, count } }),
        ),
      );
    } catch (error) {
      // While Postgres is away the counts are kept (bounded); the audit trail must not block tokens.
      for (const [key, entry] of batch) {
        const current = this.pending.get(key);
        if (current) current.count += entry.count;
        else if (this.pending.size < MAX_BUFFERED) this.pending.set(key, entry);
      }
      this.logger.warn({ err: error, pending: this.pending.size }, 'audit batch not written yet');
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
