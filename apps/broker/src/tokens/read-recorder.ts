import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BrokerEnvironment } from '../config/environment';
import type { AccessToken } from './token-store';

/** At most this long between flushes (an eighth of the read window when that is shorter). */
const MAX_FLUSH_INTERVAL_MS = 30_000;
/** Keys per UPDATE when flushing. */
const FLUSH_CHUNK = 5_000;

/**
 * Remembers which connections callers read, for `refreshAhead: when_read`, without a database
 * write per read: reads are collected in a set and flushed every 30 s (or an eighth of the read
 * window), and a connection's `last_read_at` is written at most once per quarter of the read
 * window (per replica, and in the database too).
 *
 * Only reads of integrations with that policy are collected: the others cost the token path one
 * set lookup, and nothing at all while no integration has the policy. Which integrations have it
 * is read again at every flush, so an integration switched to `when_read` has its reads collected
 * from the next flush on (until then its connections look cold and are refreshed on demand).
 */
@Injectable()
export class ReadRecorder implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReadRecorder.name);
  private pending = new Set<string>();
  /** The integrations whose connections' reads are collected (`refresh_ahead = 'when_read'`). */
  private whenRead = new Set<string>();
  /** Keys this replica wrote recently, with when: not written again before `resendMs`. */
  private readonly written = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private readonly resendMs: number;
  private readonly flushIntervalMs: number;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    env: BrokerEnvironment,
  ) {
    this.resendMs = (env.BROKER_READ_WINDOW_SECONDS * 1000) / 4;
    this.flushIntervalMs = Math.min(MAX_FLUSH_INTERVAL_MS, (env.BROKER_READ_WINDOW_SECONDS * 1000) / 8);
  }

  async onModuleInit(): Promise<void> {
    this.timer = setInterval(() => void this.flush(), this.flushIntervalMs);
    this.timer.unref();
    await this.readPolicies();
  }

  /** On the token path: nothing, or one set insertion for a connection of a `when_read` integration. */
  record(token: Pick<AccessToken, 'connectionKey' | 'integrationId'>): void {
    if (this.whenRead.size !== 0 && this.whenRead.has(token.integrationId))
      this.pending.add(token.connectionKey);
  }

  /** Writes the reads collected since the last flush; returns how many rows it touched. */
  async flush(now = Date.now()): Promise<number> {
    await this.readPolicies();
    if (this.pending.size === 0) return 0;
    const keys: string[] = [];
    for (const key of this.pending) {
      const last = this.written.get(key);
      if (last === undefined || now - last >= this.resendMs) keys.push(key);
    }
    this.pending = new Set();
    for (const [key, at] of this.written) if (now - at >= this.resendMs) this.written.delete(key);
    let touched = 0;
    try {
      for (let start = 0; start < keys.length; start += FLUSH_CHUNK) {
        const chunk = keys.slice(start, start + FLUSH_CHUNK);
        const [, count]: [unknown, number] = await this.db.query(
          `UPDATE connections c SET last_read_at = now()
             FROM integrations i
            WHERE c.key = ANY($1::text[]) AND i.id = c.integration_id AND i.refresh_ahead = 'when_read'
              AND (c.last_read_at IS NULL OR c.last_read_at < now() - make_interval(secs => $2))`,
          [chunk, this.resendMs / 1000],
        );
        touched += count;
        for (const key of chunk) this.written.set(key, now);
      }
    } catch (error) {
      // Reads not recorded make a connection look cold a little early: it is then refreshed on demand.
      this.logger.warn({ err: error }, 'connection reads not recorded');
    }
    return touched;
  }

  private async readPolicies(): Promise<void> {
    try {
      const rows: { id: string }[] = await this.db.query(
        `SELECT id FROM integrations WHERE refresh_ahead = 'when_read'`,
      );
      this.whenRead = new Set(rows.map((row) => row.id));
    } catch (error) {
      // Postgres away: the reads of the integrations known so far go on being collected.
      this.logger.warn({ err: error }, 'refresh policies not read; keeping the ones known');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}
