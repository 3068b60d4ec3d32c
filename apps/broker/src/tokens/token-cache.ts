import { Injectable } from '@nestjs/common';
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

  constructor(events: ConnectionEvents) {
    events.onChange((change) => {
      if (change.kind === 'client') return;
      const cached = this.byKey.get(change.key);
      if (!cached) return;
      if (change.kind !== 'tokens' || change.v !== cached.tokenVersion) this.evict(change.key);
    });
    events.onListening((listening) => {
      if (!listening) this.unverified = true;
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

  /** After the listener came back: which entries to re-check against Postgres. */
  takeUnverified(): AccessToken[] {
    if (!this.unverified) return [];
    this.unverified = false;
    return [...this.byKey.values()];
  }

  get size(): number {
    return this.byKey.size;
  }
}
