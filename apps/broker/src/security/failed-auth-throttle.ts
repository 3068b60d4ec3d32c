import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';

const WINDOW_MS = 60_000;
const BLOCK_MS = 60_000;

/**
 * Counts failed authentications per source address (admin token, API key, ServiceAccount token)
 * and answers 429 for a minute once a source passes the limit, so keys cannot be guessed. Only
 * failures count: a busy caller with a valid key is never slowed. Per replica, in memory.
 */
@Injectable()
export class FailedAuthThrottle implements OnApplicationShutdown {
  private readonly storage = new ThrottlerStorageService();
  private readonly blockedUntil = new Map<string, number>();

  constructor(private readonly env: BrokerEnvironment) {}

  /** Throws 429 while the source is blocked; a map lookup, cheap enough for the token path. */
  assertNotBlocked(source: string): void {
    const until = this.blockedUntil.get(source);
    if (until === undefined) return;
    const remainingMs = until - Date.now();
    if (remainingMs <= 0) {
      this.blockedUntil.delete(source);
      return;
    }
    throw new BrokerError(
      'too_many_requests',
      'too many failed authentications from this address; try again later',
      {
        'retry-after': String(Math.ceil(remainingMs / 1000)),
      },
    );
  }

  async recordFailure(source: string): Promise<void> {
    const record = await this.storage.increment(
      `failed-auth:${source}`,
      WINDOW_MS,
      this.env.BROKER_AUTH_FAILURE_LIMIT,
      BLOCK_MS,
      'failed-auth',
    );
    if (record.isBlocked) this.blockedUntil.set(source, Date.now() + record.timeToBlockExpire * 1000);
  }

  onApplicationShutdown(): void {
    this.storage.onApplicationShutdown();
  }
}
