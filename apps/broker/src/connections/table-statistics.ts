import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** ANALYZE once the rows added since the last one reach this share of the table (or 1,000). */
const GROWTH_SHARE = 0.2;
const MIN_ROWS = 1_000;

/**
 * Keeps the planner's statistics of `connections` current through a bulk import, rather than
 * waiting for autovacuum: ANALYZE (a sample, not a scan) in the background whenever the rows
 * imported since the last one reach a fifth of the table, one at a time. With the table growing
 * geometrically, a million rows cost a few dozen analyses.
 */
@Injectable()
export class TableStatistics {
  private readonly logger = new Logger(TableStatistics.name);
  private added = 0;
  private threshold = MIN_ROWS;
  private running: Promise<void> | null = null;

  constructor(@InjectDataSource() private readonly db: DataSource) {}

  rowsAdded(count: number): void {
    this.added += count;
    if (this.added < this.threshold || this.running) return;
    this.added = 0;
    this.running = this.analyze().finally(() => (this.running = null));
  }

  /** The analysis running now, if any (tests and benches wait for it). */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async analyze(): Promise<void> {
    try {
      await this.db.query('ANALYZE connections');
      const [row]: { rows: number }[] = await this.db.query(
        `SELECT reltuples::float8 AS rows FROM pg_class WHERE oid = 'connections'::regclass`,
      );
      this.threshold = Math.max(MIN_ROWS, Math.round(Math.max(0, row?.rows ?? 0) * GROWTH_SHARE));
    } catch (error) {
      this.logger.warn({ err: error }, 'connections not analyzed; autovacuum will');
    }
  }
}
