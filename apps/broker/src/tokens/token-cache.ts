import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AccessToken } from './token-store';
import { ConnectionEvents } from './connection-events';

/**
 * This replica's copy of usable access tokens, by connection key. It never answers with a token
 * that has expired or lacks the asked validity; a NOTIFY from any replica evicts the entry when the
 * connection's version moves, its status changes or it is deleted. While the listener is down,
 * entries are marked unverified, and `unverifiedKeys` lists what to re-check when it is back.
 */
@Injectable()
export class TokenCache {
  private readonly byKey = new Map<string, AccessToken>();
  private readonly keyById = new Map<string, string>();
  private unverified = false;
  private readonly logger = new Logger(TokenCache.name);

  constructor(
    events: ConnectionEvents,
    @InjectDataSource() private readonly db: DataSource,
  ) {
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
    return entry.expiresAtMs - now >= minValiditySeconds * 1000 ? entry : undefined;
  }

  /** Any unexpired token of that connection, whatever its remaining validity. */
  peek(key: string, now = Date.now()): AccessToken | undefined {
    const entry = this.byKey.get(key);
    return entry && entry.expiresAtMs > now ? entry : undefined;
  }

  set(token: AccessToken): void {
    const current = this.byKey.get(token.connectionKey);
    if (current && current.tokenVersion > token.tokenVersion) return;
    this.byKey.set(token.connectionKey, token);
    this.keyById.set(token.connectionId, token.connectionKey);
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
