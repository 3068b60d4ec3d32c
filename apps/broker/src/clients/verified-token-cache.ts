import { hash } from 'node:crypto';

export interface Entry<T> {
  value: T;
  expiresAtMs: number;
}

/**
 * What verifying a bearer token found, remembered by the token's SHA-256 until the token's own
 * expiry and never longer, so a caller presenting the same token again costs a hash and a map
 * lookup instead of a signature verification. At most `maxEntries` tokens are kept; the least
 * recently used goes first. Only verified tokens are stored: a refused one is verified again
 * each time it is presented.
 */
export class VerifiedTokenCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    readonly maxEntries: number,
    readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be ≥ 1');
  }

  /** The map key of a token: its SHA-256, so bearer tokens themselves are not kept in memory. */
  keyOf(token: string): string {
    return hash('sha256', token, 'base64');
  }

  /** The value stored under a token's key while the token is unexpired, or undefined. */
  get(key: string): T | undefined {
    return this.entry(key)?.value;
  }

  /** The value under a token's key and the token's expiry, while it is unexpired. */
  entry(key: string): Readonly<Entry<T>> | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAtMs <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry;
  }

  /** Remembers a verified token's value until `expiresAtMs`; an already expired token is not stored. */
  set(key: string, value: T, expiresAtMs: number): void {
    this.entries.delete(key);
    if (expiresAtMs <= this.now()) return;
    this.entries.set(key, { value, expiresAtMs });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }
}
