import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { resolveProvider } from '@broker/providers';
import { BrokerEnvironment } from '../config/environment';
import type { IntegrationEntity } from '../model/integration.entity';
import { currentTraceContext } from '../tokens/token-events';
import { HORIZON_KEY } from './queue.constants';
import { RefreshQueue } from './refresh-queue';
import { BATCH, DUE_SLICE_SQL, inIndexOrder } from './schedule-reads';

const BATCH_PAUSE_MS = 50;
/** Every this many sweeps, the whole horizon is read again (failed jobs come back with it). */
export const FULL_SWEEP_EVERY = 10;
const HIGHEST_UUID = 'ffffffff-ffff-ffff-ffff-ffffffffffff';

export interface SweepResult {
  full: boolean;
  queued: number;
  /** `refreshAhead: when_read` connections left cold: moved to their refresh token's keep-alive. */
  deferred: number;
}

/**
 * Fills Redis with what is due within the horizon, from Postgres, the schedule's truth.
 *
 * Each sweep reads only the slice that came within reach since the last one: connections whose
 * `next_refresh_at` lies between the previous horizon's end (kept in Redis) and the new one,
 * through the partial index `connections_schedule_idx`, so its cost follows the refreshes due,
 * not the table. Every tenth sweep it reads the whole horizon instead, overdue rows included.
 * When that mark is missing (Redis flushed or new), it reads from the beginning up to two sweep
 * intervals ahead, and the sweeps after it go on from there. Job ids are deterministic, so what is queued
 * already stays as it is. Refreshes planned inside the horizon between sweeps are queued by
 * `RefreshQueue` as they are planned.
 *
 * A generation id in the mark tells a flush that happened during a sweep: the sweep that started
 * before it does not write a mark the flushed Redis no longer deserves.
 */
@Injectable()
export class HorizonSweep {
  private readonly logger = new Logger(HorizonSweep.name);
  private running = false;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly queue: RefreshQueue,
    private readonly env: BrokerEnvironment,
  ) {}

  async sweep(): Promise<SweepResult | null> {
    // A slow sweep in this process is not joined by the next one.
    if (this.running) return null;
    this.running = true;
    try {
      return await this.run();
    } finally {
      this.running = false;
    }
  }

  private async run(): Promise<SweepResult> {
    const redis = await this.queue.queue.getBackend().client;
    const key = this.queue.queue.toKey(HORIZON_KEY);
    const mark = await redis.hgetall(key);
    let generation = mark.gen;
    if (!generation) {
      generation = randomUUID();
      await redis.hset(key, { gen: generation });
    }
    const sweeps = Number(mark.sweeps ?? 0);
    const rebuild = !mark.gen || !mark.reach;
    const full = rebuild || sweeps % FULL_SWEEP_EVERY === 0;
    // Rebuilding a flushed Redis reaches two intervals ahead, not the whole horizon: what is due
    // soon is queued at once, and the next sweeps add the rest from the mark as usual, instead of
    // one burst of a whole horizon delaying the refreshes due meanwhile.
    const reach = rebuild
      ? Math.min(this.queue.horizonEnd(), Date.now() + 2 * this.env.BROKER_RECONCILE_INTERVAL_SECONDS * 1000)
      : this.queue.horizonEnd();

    const deferred = await this.deferColdConnections(reach);
    const queued = await this.queueSlice(full ? null : Number(mark.reach), reach);

    if ((await redis.hget(key, 'gen')) === generation) {
      // A flush between these two calls leaves a mark without `gen`: the next sweep reads it all.
      await redis.hset(key, { reach, sweeps: sweeps + 1 });
    }
    this.logger.debug({ full, queued, deferred }, 'horizon swept');
    return { full, queued, deferred };
  }

  /** Queues connections due in [from, reach), or everything due before reach when from is null. */
  private async queueSlice(from: number | null, reach: number): Promise<number> {
    let afterAt: Date | string = from === null ? '-infinity' : new Date(from - 1);
    let afterId = HIGHEST_UUID;
    let queued = 0;
    const trace = currentTraceContext();
    for (;;) {
      const rows: { id: string; tokenVersion: number; nextRefreshAt: Date }[] = await inIndexOrder(
        this.db,
        DUE_SLICE_SQL,
        [afterAt, afterId, new Date(reach)],
      );
      if (rows.length === 0) break;
      await this.queue.scheduleMany(
        rows.map((row) => ({
          connectionId: row.id,
          tokenVersion: row.tokenVersion,
          runAt: new Date(row.nextRefreshAt),
          trace,
        })),
      );
      queued += rows.length;
      const last = rows[rows.length - 1];
      afterAt = new Date(last.nextRefreshAt);
      afterId = last.id;
      if (rows.length < BATCH) break;
      // The worker in this process runs what is due now: a large slice is queued in paced
      // batches, soonest first, so it does not hold the event loop and Redis for seconds.
      await setTimeout(BATCH_PAUSE_MS);
    }
    return queued;
  }

  /**
   * `refreshAhead: when_read`: a connection coming due that nobody read within the read window is
   * not refreshed ahead. Its next refresh moves to the keep-alive of its refresh token (a day
   * before it would lapse, or half its remaining life if shorter), or nowhere when it never
   * lapses; a read refreshes it on demand meanwhile. One whose keep-alive falls inside the
   * horizon stays due: that refresh keeps the refresh token alive.
   *
   * A connection whose refresh token's expiry is unknown (imported without
   * `refreshTokenExpiresAt`) is deferred only when its provider's refresh tokens never lapse.
   * Where they do (Bloomerang's 90 days), it is refreshed once at its plan: that write records
   * the expiry, and from then on it is deferred like the others.
   */
  private async deferColdConnections(reach: number): Promise<number> {
    const policies: Pick<IntegrationEntity, 'id' | 'provider' | 'config'>[] = await this.db.query(
      `SELECT id, provider, config FROM integrations WHERE refresh_ahead = 'when_read'`,
    );
    if (policies.length === 0) return 0;
    const lapsing = policies.filter((integration) => refreshTokensLapse(integration)).map(({ id }) => id);
    const keepAlive = `CASE WHEN c.refresh_token_expires_at IS NULL THEN NULL
        ELSE c.refresh_token_expires_at - LEAST(interval '1 day',
               (c.refresh_token_expires_at - COALESCE(c.last_refreshed_at, c.created_at)) / 2) END`;
    let deferred = 0;
    for (;;) {
      const [, count]: [unknown, number] = await inIndexOrder(
        this.db,
        `UPDATE connections d SET next_refresh_at = cold.keep_alive
           FROM (SELECT c.id, ${keepAlive} AS keep_alive
                   FROM connections c JOIN integrations i ON i.id = c.integration_id
                  WHERE c.status IN ('active', 'error') AND c.next_refresh_at IS NOT NULL
                    AND c.next_refresh_at < $1 AND c.integration_id = ANY($3::uuid[])
                    AND i.refresh_ahead = 'when_read'
                    AND (c.last_read_at IS NULL OR c.last_read_at < now() - make_interval(secs => $2))
                    AND (CASE WHEN c.refresh_token_expires_at IS NULL
                              THEN NOT c.integration_id = ANY($4::uuid[])
                              ELSE ${keepAlive} >= $1 END)
                  ORDER BY c.next_refresh_at, c.id
                  LIMIT ${BATCH * 5}) cold
          WHERE d.id = cold.id`,
        [new Date(reach), this.env.BROKER_READ_WINDOW_SECONDS, policies.map((row) => row.id), lapsing],
      );
      deferred += count;
      if (count < BATCH * 5) break;
    }
    return deferred;
  }
}

/**
 * Whether the integration's provider documents refresh tokens that lapse: a lifetime, an idle
 * limit, or an answer field that states one (QuickBooks).
 */
function refreshTokensLapse(integration: Pick<IntegrationEntity, 'provider' | 'config'>): boolean {
  const provider = resolveProvider({ provider: integration.provider, ...integration.config });
  return (
    provider.refreshTokenLifetimeSeconds !== undefined ||
    provider.refreshTokenIdleSeconds !== undefined ||
    provider.refreshTokenExpiresInField !== undefined
  );
}
