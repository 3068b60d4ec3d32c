import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BrokerEnvironment } from '../config/environment';
import type { AccessToken } from './token-store';
import { ConnectionEvents } from './connection-events';

/**
 * This replica's copy of usable access tokens, by connection key. It never answers with a token
 * that has expired or lacks the asked validity; a NOTIFY from any replica evicts the entry when the
 * connection's version moves, its status changes or it is deleted. While the listener is down,
 * entries are marked unverified, and `unverifiedKeys` lists what to re-check when it is back.
 *
 * It holds at most `BROKER_TOKEN_CACHE_MAX_ENTRIES` tokens, the least recently used leaving first,
 * so its memory follows the connections callers read, not the table: a scheduled refresh only
 * replaces a token already held (`replace`), and a read brings one in (`set`).
 */
@Injectable()
export class TokenCache {
  private readonly byKey = new Map<string, AccessToken>();
  private readonly keyById = new Map<string, string>();
  private unverified = false;
  private readonly logger = new Logger(TokenCache.name);

  private readonly maxEntries: number;

  constructor(
    events: ConnectionEvents,
    @InjectDataSource() private readonly db: DataSource,
    env: BrokerEnvironment,
  ) {
    this.maxEntries = env.BROKER_TOKEN_CACHE_MAX_ENTRIES;
    events.onChange((change) => {
      if (change.kind === 'client') return;
      const cached = this.byKey.get(change.key);
      if (!cached) return;
      if (change.kind !== 'tokens' || change.v !== cached.tokenVersion) this.evict(change.key);
    });
    events.onListening((listening) => {
      if (!listening) this.unverified = true;
      else void this.reverify();
    });
  }

  /** A token with at least `minValiditySeconds` left, or undefined. */
  get(key: string, minValiditySeconds: number, now = Date.now()): AccessToken | undefined {
    const entry = this.byKey.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= now) {
      this.evict(key);
      return undefined;
    }
    // Most recently used last: the eviction takes the first key.
    this.byKey.delete(key);
    this.byKey.set(key, entry);
    return entry.expiresAtMs - now >= minValiditySeconds * 1000 ? entry : undefined;
  }

  /** Whether any token held is still unexpired: what a replica cut off from Postgres can serve. */
  holdsValidTokens(now = Date.now()): boolean {
    for (const entry of this.byKey.values()) if (entry.expiresAtMs > now) return true;
    return false;
  }

  /** Any unexpired token of that connection, whatever its remaining validity. */
  peek(key: string, now = Date.now()): AccessToken | undefined {
    const entry = this.byKey.get(key);
    return entry && entry.expiresAtMs > now ? entry : undefined;
  }

  /** Holds the token (a read, or a refresh someone waits for), evicting the least recently used past the bound. */
  set(token: AccessToken): void {
    const current = this.byKey.get(token.connectionKey);
    if (current && current.tokenVersion > token.tokenVersion) return;
    this.byKey.delete(token.connectionKey);
    this.byKey.set(token.connectionKey, token);
    this.keyById.set(token.connectionId, token.connectionKey);
    if (this.byKey.size > this.maxEntries) this.evict(this.byKey.keys().next().value!);
  }

  /** Replaces the token of a connection this replica holds; one it does not hold stays out. */
  replace(token: AccessToken): void {
    const current = this.byKey.get(token.connectionKey);
    if (current && current.tokenVersion <= token.tokenVersion) this.byKey.set(token.connectionKey, token);
  }

  evict(key: string): void {
    const entry = this.byKey.get(key);
    if (!entry) return;
    this.byKey.delete(key);
    this.keyById.delete(entry.connectionId);
  }

  evictById(connectionId: string): void {
    const key = this.keyById.get(connectionId);
    if (key) this.evict(key);
  }

  /**
   * After the listener came back: changes committed while it was down were never announced to
   * this replica, so every entry is checked against Postgres and dropped unless its connection
   * still has that token version and a servable status.
   */
  private async reverify(): Promise<void> {
    if (!this.unverified) return;
    this.unverified = false;
    const keys = [...this.byKey.keys()];
    if (keys.length === 0) return;
    try {
      const rows: { key: string; tokenVersion: number; status: string }[] = await this.db.query(
        `SELECT key, token_version AS "tokenVersion", status FROM connections WHERE key = ANY($1)`,
        [keys],
      );
      const current = new Map(rows.map((row) => [row.key, row]));
      for (const key of keys) {
        const row = current.get(key);
        const entry = this.byKey.get(key);
        if (
          !row ||
          !entry ||
          row.tokenVersion !== entry.tokenVersion ||
          !['active', 'error'].includes(row.status)
        ) {
          this.evict(key);
        }
      }
    } catch (error) {
      this.unverified = true;
      this.logger.warn({ err: error }, 'cache not re-verified yet; Postgres unreachable');
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}
