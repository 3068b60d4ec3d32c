import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import { BrokerEnvironment } from '../config/environment';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { CONNECTION_STATUSES } from '../model/connection-status';
import { HorizonSweep, SweepResult } from './horizon-sweep';
import { inIndexOrder, OVERDUE_COUNT_SQL, SOONEST_REFRESH_TOKEN_EXPIRY_SQL } from './schedule-reads';

/**
 * The recurring job: the horizon sweep, then housekeeping. Every query here reads through an
 * index bounded by what it returns, or a table kept small: its cost does not grow with the
 * number of connections.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger(Reconciler.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly sweep: HorizonSweep,
    private readonly audit: AuditLog,
    private readonly metrics: BrokerMetrics,
    private readonly env: BrokerEnvironment,
  ) {}

  async reconcile(): Promise<SweepResult | { skipped: true }> {
    const swept = await this.sweep.sweep();
    await this.countConnections();
    await this.db.query(
      `DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day' OR consumed_at < now() - interval '1 day'`,
    );
    await this.audit.prune(this.env.BROKER_AUDIT_RETENTION_DAYS);
    this.logger.debug({ ...swept }, 'reconciled');
    return swept ?? { skipped: true };
  }

  /**
   * The connection gauges the alerts watch. Counts come from `connection_counts`, kept by
   * statement triggers on `connections`; the soonest refresh-token expiry is one index probe per
   * integration; overdue refreshes are counted through the schedule index, so the count reads
   * only the overdue rows. Both are planned in index order whatever the statistics say.
   */
  private async countConnections(): Promise<void> {
    const byStatus: { integration: string; status: string; count: string }[] = await this.db.query(
      `SELECT i.key AS integration, s.status, COALESCE(cc.count, 0) AS count
         FROM integrations i
        CROSS JOIN unnest($1::text[]) AS s(status)
         LEFT JOIN connection_counts cc ON cc.integration_id = i.id AND cc.status = s.status`,
      [CONNECTION_STATUSES],
    );
    const refreshTokenSoonestExpiry: { integration: string; expiresAt: Date | null }[] = await inIndexOrder(
      this.db,
      SOONEST_REFRESH_TOKEN_EXPIRY_SQL,
    );
    const [overdue]: { count: string }[] = await inIndexOrder(this.db, OVERDUE_COUNT_SQL);
    this.metrics.setConnectionState({
      byStatus: byStatus.map((row) => ({ ...row, count: Number(row.count) })),
      refreshTokenSoonestExpiry: refreshTokenSoonestExpiry.flatMap((row) =>
        row.expiresAt ? [{ integration: row.integration, expiresAt: new Date(row.expiresAt) }] : [],
      ),
      overdue: Number(overdue.count),
    });
  }
}
