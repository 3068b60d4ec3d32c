import type { Logger } from 'pino';
import { errorBody, MAX_MIN_VALIDITY } from '@broker/token-api';
import type { CachedToken, FetchOutcome } from './broker-api';
import type { AgentMetrics, BrokerCallPurpose } from './agent-metrics';

/** What a read comes to: a token, or an error answer (status and JSON body) for the app. */
export type Answer = { kind: 'token'; token: CachedToken } | { kind: 'error'; status: number; body: string };

export type FetchToken = (
  key: string,
  minValidity: number,
  purpose: BrokerCallPurpose,
) => Promise<FetchOutcome>;

export interface TokenCacheOptions {
  /** How long the broker's 403, 404 and 409 are held. */
  negativeHoldMs: number;
  /** A connection not read for this long is dropped, and with it its read-ahead. */
  forgetAfterMs: number;
  /** Connections remembered at most; past it the least recently read is forgotten (default 1,000). */
  maxConnections?: number;
}

export const DEFAULT_MAX_CONNECTIONS = 1_000;

/**
 * When the broker's answer has less validity than asked (its provider grants shorter tokens), the
 * token is served as it is and not asked for again until this fraction of its lifetime passed:
 * at most a couple of broker calls per token lifetime, never a loop.
 */
export const SHORT_TOKEN_RETRY_FRACTION = 0.5;
/** Read-ahead starts this share of a token's lifetime (1 s to 60 s) before readers would miss, plus as much jitter. */
const READ_AHEAD_LEAD_FRACTION = 0.1;
const MIN_RETRY_MS = 1_000;

interface Entry {
  key: string;
  token: CachedToken | null;
  /** The broker's token could not satisfy `askedFor`: reads asking up to that get it as it is until `until`. */
  short: { askedFor: number; until: number } | null;
  denied: { status: number; body: string; until: number } | null;
  lastReadAt: number;
  /** The largest `minValidity` asked recently (read-ahead keeps the token above it) and when it was asked. */
  wanted: number;
  wantedAt: number;
  inFlight: Promise<FetchOutcome> | null;
  timer: NodeJS.Timeout | null;
  readAheadFailures: number;
}

/**
 * The agent's memory of tokens, by connection key, and the rules around it: a token with
 * `minValidity` left is answered at once; concurrent misses for one connection share one broker
 * call; connections read recently are fetched again, jittered, before their token drops below the
 * largest `minValidity` recently asked; denials are held briefly; connections nobody reads are forgotten.
 */
export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxConnections: number;

  constructor(
    private readonly fetchToken: FetchToken,
    private readonly options: TokenCacheOptions,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {
    this.maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    // Often enough that a key the broker does not know is gone soon after its hold.
    const sweepMs = Math.min(options.forgetAfterMs / 4, Math.max(options.negativeHoldMs, 1_000));
    this.sweeper = setInterval(() => this.sweep(), Math.max(1_000, sweepMs));
    this.sweeper.unref();
  }

  async get(key: string, minValidity: number): Promise<Answer> {
    const now = Date.now();
    const entry = this.entryFor(key, now);
    entry.lastReadAt = now;
    const raised = minValidity > entry.wanted;
    if (raised || minValidity === entry.wanted || now - entry.wantedAt > this.options.forgetAfterMs) {
      entry.wanted = minValidity;
      entry.wantedAt = now;
    }
    if (entry.denied && entry.denied.until > now) {
      this.metrics.negativeHit();
      return { kind: 'error', status: entry.denied.status, body: entry.denied.body };
    }
    const fromMemory = this.servable(entry, minValidity, now);
    if (fromMemory) {
      this.metrics.hit();
      // A reader asking more than before moves the read-ahead earlier.
      if ((raised || !entry.timer) && !entry.inFlight) this.scheduleReadAhead(entry);
      return { kind: 'token', token: fromMemory };
    }
    this.metrics.miss();
    let outcome = await this.fetch(entry, minValidity, 'read');
    // Joined a call that asked for less than this read needs, and its token falls short: ask once more.
    if (
      outcome.kind === 'token' &&
      outcome.asked < minValidity &&
      !this.servable(entry, minValidity, Date.now())
    ) {
      outcome = await this.fetch(entry, minValidity, 'read');
    }
    return this.answer(entry, outcome, minValidity);
  }

  /** Drops everything (the credential now stands for another caller, who may read other connections). */
  clear(): void {
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    this.entries.clear();
    this.metrics.setCachedConnections(0);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private entryFor(key: string, now: number): Entry {
    let entry = this.entries.get(key);
    if (!entry) {
      if (this.entries.size >= this.maxConnections) this.evictLeastRecentlyRead();
      entry = {
        key,
        token: null,
        short: null,
        denied: null,
        lastReadAt: now,
        wanted: 0,
        wantedAt: now,
        inFlight: null,
        timer: null,
        readAheadFailures: 0,
      };
      this.entries.set(key, entry);
      this.metrics.setCachedConnections(this.entries.size);
    }
    return entry;
  }

  /** The cached token when it may answer this read: it has `minValidity` left, or it is the best the broker had. */
  private servable(entry: Entry, minValidity: number, now: number): CachedToken | undefined {
    const token = entry.token;
    if (!token || token.expiresAtMs <= now) return undefined;
    if (token.expiresAtMs - now >= minValidity * 1000) return token;
    const short = entry.short;
    return short && short.until > now && minValidity <= short.askedFor ? token : undefined;
  }

  /** One broker call per connection at a time; whoever comes meanwhile shares its outcome. */
  private fetch(entry: Entry, minValidity: number, purpose: BrokerCallPurpose): Promise<FetchOutcome> {
    if (entry.inFlight) return entry.inFlight;
    const call = this.fetchToken(entry.key, minValidity, purpose)
      .then((outcome) => {
        this.remember(entry, outcome);
        return outcome;
      })
      .finally(() => {
        entry.inFlight = null;
      });
    entry.inFlight = call;
    return call;
  }

  private remember(entry: Entry, outcome: FetchOutcome): void {
    const now = Date.now();
    if (outcome.kind === 'token') {
      const token = outcome.token;
      entry.token = token;
      entry.denied = null;
      entry.readAheadFailures = 0;
      const lifetimeMs = token.expiresAtMs - token.fetchedAtMs;
      entry.short =
        lifetimeMs < outcome.asked * 1000
          ? {
              askedFor: outcome.asked,
              until: now + Math.max(MIN_RETRY_MS, lifetimeMs * SHORT_TOKEN_RETRY_FRACTION),
            }
          : null;
      this.scheduleReadAhead(entry);
    } else if (outcome.kind === 'denied') {
      // The connection is gone, forbidden or needs re-authorization: its token must not be served.
      entry.token = null;
      entry.short = null;
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      entry.denied =
        outcome.hold && this.options.negativeHoldMs > 0
          ? { status: outcome.status, body: outcome.body, until: now + this.options.negativeHoldMs }
          : null;
    }
  }

  private answer(entry: Entry, outcome: FetchOutcome, minValidity: number): Answer {
    switch (outcome.kind) {
      case 'token':
        // The broker's token as it came, even when its provider grants less than minValidity.
        return { kind: 'token', token: outcome.token };
      case 'denied':
        return { kind: 'error', status: outcome.status, body: outcome.body };
      case 'credential_refused':
        return errorAnswer(503, outcome.message);
      case 'unavailable': {
        const cached = this.servable(entry, minValidity, Date.now());
        if (cached) return { kind: 'token', token: cached };
        if (outcome.status === 503 && outcome.body) return { kind: 'error', status: 503, body: outcome.body };
        return errorAnswer(503, `${outcome.message}, and no cached token has the asked validity`);
      }
    }
  }

  /**
   * Plans the next fetch of a connection's token before it drops below the largest `minValidity`
   * recently asked, with a lead and jitter proportional to its lifetime so agents spread out, and
   * never sooner than `SHORT_TOKEN_RETRY_FRACTION` of the lifetime after the last fetch.
   */
  private scheduleReadAhead(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    const token = entry.token;
    if (!token) return;
    const now = Date.now();
    const lifetimeMs = Math.max(0, token.expiresAtMs - token.fetchedAtMs);
    const leadMs = clamp(lifetimeMs * READ_AHEAD_LEAD_FRACTION, 1_000, 60_000);
    const due = token.expiresAtMs - entry.wanted * 1000 - leadMs - Math.random() * leadMs;
    const earliest = token.fetchedAtMs + Math.max(MIN_RETRY_MS, lifetimeMs * SHORT_TOKEN_RETRY_FRACTION);
    this.arm(entry, Math.max(due, earliest) - now);
  }

  private arm(entry: Entry, delayMs: number): void {
    entry.timer = setTimeout(() => void this.readAhead(entry), Math.max(0, delayMs));
    entry.timer.unref();
  }

  private async readAhead(entry: Entry): Promise<void> {
    entry.timer = null;
    const now = Date.now();
    if (this.entries.get(entry.key) !== entry) return;
    if (now - entry.lastReadAt > this.options.forgetAfterMs) {
      this.forget(entry);
      return;
    }
    const token = entry.token;
    if (!token || entry.inFlight) return;
    // Ask for more than the current token has left, so the broker answers with a fresher one.
    const remainingSeconds = Math.ceil((token.expiresAtMs - now) / 1000);
    const asked = Math.min(MAX_MIN_VALIDITY, Math.max(entry.wanted, remainingSeconds + 1));
    const outcome = await this.fetch(entry, asked, 'read_ahead');
    this.metrics.readAhead(outcome.kind === 'token' ? 'ok' : 'failed');
    if (outcome.kind === 'unavailable' || outcome.kind === 'credential_refused') {
      // Try again while the token lasts, backing off, jittered.
      entry.readAheadFailures += 1;
      const left = (entry.token?.expiresAtMs ?? 0) - Date.now();
      if (left <= 0) return;
      const backoff = Math.min(30_000, MIN_RETRY_MS * 2 ** Math.min(entry.readAheadFailures - 1, 5));
      this.logger.debug({ connection: entry.key, reason: outcome.message }, 'read-ahead failed; retrying');
      this.arm(entry, Math.min(left, backoff * (0.5 + Math.random())));
    }
  }

  private forget(entry: Entry): void {
    if (entry.timer) clearTimeout(entry.timer);
    this.entries.delete(entry.key);
    this.metrics.setCachedConnections(this.entries.size);
  }

  /**
   * Forgets connections nobody read for `forgetAfterMs`, and at once those the broker refused
   * (404, 403) once their hold is over: a flood of unknown keys leaves nothing behind.
   */
  sweep(now = Date.now()): void {
    for (const entry of this.entries.values()) {
      if (entry.inFlight) continue;
      const idle = now - entry.lastReadAt > this.options.forgetAfterMs;
      const refusedAndHeld = !entry.token && entry.denied !== null && entry.denied.until <= now;
      if (idle || refusedAndHeld) this.forget(entry);
    }
  }

  /**
   * Makes room for a new connection: the least recently read one goes (a scan, paid only when the
   * cache is full; a call in flight for it still answers its readers).
   */
  private evictLeastRecentlyRead(): void {
    let victim: Entry | undefined;
    for (const entry of this.entries.values()) {
      if (!victim || entry.lastReadAt < victim.lastReadAt) victim = entry;
    }
    if (victim) {
      this.forget(victim);
      this.metrics.evicted();
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function errorAnswer(status: number, message: string): Answer {
  return {
    kind: 'error',
    status,
    body: JSON.stringify(errorBody(status, 'service_unavailable', message)),
  };
}
