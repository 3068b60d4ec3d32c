import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { HealthIndicatorResult } from '@nestjs/terminus';
import { DataSource } from 'typeorm';
import { RefreshQueue } from '../scheduler/refresh-queue';
import { TokenCache } from '../tokens/token-cache';

const CHECK_TIMEOUT_MS = 1_500;

export type Dependency = 'postgres' | 'redis';

export interface Readiness {
  httpStatus: HttpStatus.OK | HttpStatus.SERVICE_UNAVAILABLE;
  body: {
    /** `ok`: every dependency answers; `degraded`: serving without the ones named; `error`: not serving. */
    status: 'ok' | 'degraded' | 'error';
    degraded: Dependency[];
    info: HealthIndicatorResult;
    error: HealthIndicatorResult;
    details: HealthIndicatorResult;
  };
}

/**
 * Whether this replica can serve token reads, for its Kubernetes Service. Not before it has reached
 * Postgres once with every migration applied; afterwards yes for as long as it can serve: a Redis
 * outage (which token reads do not need) or a Postgres outage while the cache holds valid tokens
 * keeps it in the Service, the failing dependency named as `degraded`. Taking every pod out of the
 * Service on such an outage would reach no caller with the tokens they could still be given.
 */
@Injectable()
export class ReadinessCheck {
  private readonly logger = new Logger(ReadinessCheck.name);
  private reachedPostgres = false;

  constructor(
    private readonly postgres: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly refreshQueue: RefreshQueue,
    private readonly cache: TokenCache,
    @InjectDataSource() private readonly db: DataSource,
  ) {}

  async check(): Promise<Readiness> {
    const [postgres, redis] = await Promise.all([this.checkPostgres(), this.checkRedis()]);
    const details = { ...postgres.result, ...redis.result };
    const down: Dependency[] = [];
    if (!postgres.up) down.push('postgres');
    if (!redis.up) down.push('redis');
    const pick = (up: boolean) =>
      Object.fromEntries(Object.entries(details).filter(([, value]) => (value.status === 'up') === up));
    const serving = this.reachedPostgres && (postgres.up || this.cache.holdsValidTokens());
    return {
      httpStatus: serving ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE,
      body: {
        status: !serving ? 'error' : down.length > 0 ? 'degraded' : 'ok',
        degraded: serving ? down : [],
        info: pick(true),
        error: pick(false),
        details,
      },
    };
  }

  private async checkPostgres(): Promise<{ up: boolean; result: HealthIndicatorResult }> {
    try {
      const result = await this.postgres.pingCheck('postgres', { timeout: CHECK_TIMEOUT_MS });
      if (result.postgres?.status !== 'up') return { up: false, result };
      if (!this.reachedPostgres) this.reachedPostgres = !(await this.pendingMigrations());
      if (!this.reachedPostgres)
        return { up: false, result: { postgres: { status: 'down', message: 'migrations are pending' } } };
      return { up: true, result };
    } catch (error) {
      return { up: false, result: this.down('postgres', error) };
    }
  }

  private async checkRedis(): Promise<{ up: boolean; result: HealthIndicatorResult }> {
    try {
      const result = await this.indicators
        .check('redis')
        // One cheap round trip through the queue's own connection.
        .attempt(async () => {
          await this.refreshQueue.queue.getJobSchedulersCount();
        })
        .withTimeout(CHECK_TIMEOUT_MS);
      return { up: result.redis?.status === 'up', result };
    } catch (error) {
      return { up: false, result: this.down('redis', error) };
    }
  }

  /** Until the first success only: the migrations this replica's schema still lacks. */
  private async pendingMigrations(): Promise<boolean> {
    const pending = await this.db.showMigrations();
    if (pending) this.logger.warn('Postgres answers but migrations are pending: not ready yet');
    return pending;
  }

  private down(name: Dependency, error: unknown): HealthIndicatorResult {
    return { [name]: { status: 'down', message: error instanceof Error ? error.message : String(error) } };
  }
}
