import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { BrokerEnvironment } from '../config/environment';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { RefreshQueue } from './refresh-queue';

const BATCH = 1_000;

/**
 * Rebuilds the schedule from Postgres, the truth: every active connection gets its refresh job
 * (job ids are deterministic, so jobs that exist are left alone), including connections whose
 * refresh is overdue, which run at once. Also prunes used authorization states and old audit rows.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger(Reconciler.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: RefreshQueue,
    private readonly audit: AuditLog,
    private readonly metrics: BrokerMetrics,
    private readonly env: BrokerEnvironment,
  ) {}

  async reconcile(): Promise<{ scheduled: number }> {
    let scheduled = 0;
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const rows: { id: string; tokenVersion: number; nextRefreshAt: Date }[] = await this.db.query(
        `SELECT id, token_version AS "tokenVersion", next_refresh_at AS "nextRefreshAt"
           FROM connections
          WHERE status IN ('active', 'error') AND next_refresh_at IS NOT NULL AND id > $1
          ORDER BY id LIMIT $2`,
        [after, BATCH],
      );
      if (rows.length === 0) break;
      await this.queue.scheduleMany(
        rows.map((row) => ({
          connectionId: row.id,
          tokenVersion: row.tokenVersion,
          runAt: new Date(row.nextRefreshAt),
        })),
      );
      scheduled += rows.length;
      after = rows[rows.length - 1].id;
    }
    const [soonest] = await this.db.query(
      `SELECT min(expires_at) AS "soonest" FROM connections WHERE status = 'active' AND expires_at IS NOT NULL`,
    );
    this.metrics.setSoonestExpiry(soonest?.soonest ? new Date(soonest.soonest) : null);
    await this.db.query(
      `DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day' OR consumed_at < now() - interval '1 day'`,
    );
    await this.audit.prune(this.env.BROKER_AUDIT_RETENTION_DAYS);
    this.logger.debug({ scheduled }, 'schedule reconciled');
    return { scheduled };
  }
}
