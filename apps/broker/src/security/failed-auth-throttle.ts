import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';

const WINDOW_MS = 60_000;
const BLOCK_MS = 60_000;
/** Sources remembered at most; past it the oldest is forgotten first, so a flood of addresses stays bounded. */
export const MAX_TRACKED_SOURCES = 10_000;
const PRUNE_INTERVAL_MS = 30_000;

interface SourceRecord {
  windowStartMs: number;
  failures: number;
  blockedUntilMs: number;
}

/**
 * Counts failed authentications per source address (admin token, API key, ServiceAccount token)
 * and answers 429 for a minute once a source passes the limit. Guards call it only after a
 * credential failed: a valid credential is never refused, whoever else shares its address (behind
 * an ingress, see BROKER_TRUSTED_PROXIES). Per replica, in memory, bounded, pruned on a timer.
 */
@Injectable()
export class FailedAuthThrottle implements OnApplicationShutdown {
  private readonly sources = new Map<string, SourceRecord>();
  private readonly pruner: NodeJS.Timeout;
  protected readonly maxSources: number = MAX_TRACKED_SOURCES;

  constructor(private readonly env: BrokerEnvironment) {
    this.pruner = setInterval(() => this.prune(), PRUNE_INTERVAL_MS);
    this.pruner.unref();
  }

  /** Throws 429 while the source is blocked. */
  assertNotBlocked(source: string, now = Date.now()): void {
    const record = this.sources.get(source);
    if (record === undefined || record.blockedUntilMs <= now) return;
    throw new BrokerError(
      'too_many_requests',
      'too many failed authentications from this address; try again later',
      { 'retry-after': String(Math.ceil((record.blockedUntilMs - now) / 1000)) },
    );
  }

  /** A promise, so the guards need not change if the count moves to a shared store. */
  recordFailure(source: string, now = Date.now()): Promise<void> {
    let record = this.sources.get(source);
    if (record === undefined || (record.windowStartMs + WINDOW_MS <= now && record.blockedUntilMs <= now)) {
      if (record === undefined && this.sources.size >= this.maxSources) this.evictOldest(now);
      record = { windowStartMs: now, failures: 0, blockedUntilMs: 0 };
      // Re-inserted, so the map's order stays oldest-first for eviction.
      this.sources.delete(source);
      this.sources.set(source, record);
    }
    record.failures += 1;
    if (record.failures > this.env.BROKER_AUTH_FAILURE_LIMIT) record.blockedUntilMs = now + BLOCK_MS;
    return Promise.resolve();
  }

  get trackedSources(): number {
    return this.sources.size;
  }

  /** Forgets sources whose window and block are both over. */
  prune(now = Date.now()): void {
    for (const [source, record] of this.sources) {
      if (record.windowStartMs + WINDOW_MS <= now && record.blockedUntilMs <= now)
        this.sources.delete(source);
    }
  }

  private evictOldest(now: number): void {
    this.prune(now);
    if (this.sources.size < this.maxSources) return;
    const oldest = this.sources.keys().next();
    if (!oldest.done) this.sources.delete(oldest.value);
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruner);
  }
}
