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
 * Admin changes are written at once; token reads are buffered and written in batches, so the
 * token path never waits for an audit insert.
 */
@Injectable()
export class AuditLog implements OnApplicationShutdown {
  private readonly logger = new Logger(AuditLog.name);
  private buffer: AuditRecord[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(@InjectRepository(AuditEventEntity) private readonly events: Repository<AuditEventEntity>) {
    this.timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async record(event: AuditRecord): Promise<void> {
    await this.events.insert(toRow(event));
  }

  /** For high-volume events: buffered, never blocks the caller; dropped (and counted) past the bound. */
  recordLater(event: AuditRecord): void {
    if (this.buffer.length >= MAX_BUFFERED) return;
    this.buffer.push(event);
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const batch = this.buffer;
    this.buffer = [];
    try {
      await this.events.insert(batch.map(toRow));
    } catch (error) {
      // While Postgres is away the buffer keeps what fits; the audit trail must not block tokens.
      this.buffer = batch.concat(this.buffer).slice(0, MAX_BUFFERED);
      this.logger.warn({ err: error, pending: this.buffer.length }, 'audit batch not written yet');
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
