import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { BrokerEnvironment } from '../config/environment';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { CONNECTION_STATUSES } from '../connections/connection-status';
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
    await this.countConnections();
    await this.db.query(
      `DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day' OR consumed_at < now() - interval '1 day'`,
    );
    await this.audit.prune(this.env.BROKER_AUDIT_RETENTION_DAYS);
    this.logger.debug({ scheduled }, 'schedule reconciled');
    return { scheduled };
  }

  /** The connection gauges the alerts watch: every status of every integration, zeros included. */
  private async countConnections(): Promise<void> {
    const byStatus: { integration: string; status: string; count: string }[] = await this.db.query(
      `SELECT i.key AS integration, s.status, count(c.id) AS count
         FROM integrations i
        CROSS JOIN unnest($1::text[]) AS s(status)
         LEFT JOIN connections c ON c.integration_id = i.id AND c.status = s.status
        GROUP BY i.key, s.status`,
      [CONNECTION_STATUSES],
    );
    const refreshTokenSoonestExpiry: { integration: string; expiresAt: Date }[] = await this.db.query(
      `SELECT i.key AS integration, min(c.refresh_token_expires_at) AS "expiresAt"
         FROM connections c JOIN integrations i ON i.id = c.integration_id
        WHERE c.status = 'active' AND c.refresh_token_expires_at IS NOT NULL
        GROUP BY i.key`,
    );
    const [overdue]: { count: string }[] = await this.db.query(
      `SELECT count(*) AS count FROM connections
        WHERE status = 'active' AND next_refresh_at < now() - interval '60 seconds'`,
    );
    this.metrics.setConnectionState({
      byStatus: byStatus.map((row) => ({ ...row, count: Number(row.count) })),
      refreshTokenSoonestExpiry: refreshTokenSoonestExpiry.map((row) => ({
        integration: row.integration,
        expiresAt: new Date(row.expiresAt),
      })),
      overdue: Number(overdue.count),
    });
  }
}
