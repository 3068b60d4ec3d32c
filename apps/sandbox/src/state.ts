import { PROVIDER_NAMES, type ProviderName } from './clients';
import { randomToken } from './protocol';

/**
 * One user's approval and everything issued under it: the tokens from the exchanged code and every
 * rotation after it. Reusing that code or one of its refresh tokens revokes the whole chain.
 */
export interface Grant {
  readonly provider: ProviderName;
  readonly clientId: string;
  readonly account: string;
  /** The scope the user approved; refreshes may narrow it but never exceed it. */
  readonly scope: string;
  revoked: boolean;
  readonly accessTokens: Set<string>;
  readonly refreshTokens: Set<string>;
}

export interface PkceChallenge {
  readonly challenge: string;
  readonly method: 'S256' | 'plain';
}

export interface AuthorizationCode {
  readonly provider: ProviderName;
  readonly clientId: string;
  readonly account: string;
  readonly scope: string;
  /** The value the token request has to repeat exactly. */
  readonly redirectUri: string;
  /** Whether /authorize carried redirect_uri itself rather than falling back to the registered one. */
  readonly redirectUriGiven: boolean;
  readonly pkce?: PkceChallenge;
  readonly expiresAt: number;
  /** Set by the first successful exchange, so a later exchange is recognised as a reuse. */
  grant?: Grant;
}

export interface AccessToken {
  readonly provider: ProviderName;
  readonly clientId: string;
  readonly scope: string;
  /** The user's account; client credentials tokens act for the client itself and have none. */
  readonly account?: string;
  expiresAt: number;
  readonly grant?: Grant;
}

export interface RefreshToken {
  readonly provider: ProviderName;
  readonly clientId: string;
  /** The scope of the access token it was issued with, which a refresh without `scope` keeps. */
  readonly scope: string;
  readonly expiresAt: number;
  used: boolean;
  readonly grant: Grant;
}

export type PerProvider<T> = Record<ProviderName, T>;

export interface SandboxStats {
  readonly tokenRequests: {
    readonly total: number;
    /** Counts per provider and grant_type; absent or unknown grant types count as "other". */
    readonly byProvider: PerProvider<Record<string, number>>;
  };
  readonly codeUses: number;
  readonly codeReuses: number;
  readonly refreshTokenUses: number;
  readonly refreshTokenReuses: number;
  readonly revokedChains: number;
  readonly invalidClient: number;
  /**
   * Records forgotten while still live because the store reached its ceiling (`maxRecordsPerKind`):
   * a token the sandbox forgot is refused like an unknown one, which no real provider would do, so a
   * run that counts any here measured the sandbox's memory bound, not the broker.
   */
  readonly liveRecordsEvicted: number;
  /** The most token requests in flight at once (latency and hangs included) since the last reset. */
  readonly maxConcurrentTokenRequests: PerProvider<number>;
  readonly inFlightTokenRequests: PerProvider<number>;
}

export type CountedEvent =
  'codeUses' | 'codeReuses' | 'refreshTokenUses' | 'refreshTokenReuses' | 'invalidClient';

const COUNTED_GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

/** `unknown`: never issued, expired or revoked. */
export type RefreshTokenState = 'unspent' | 'spent' | 'unknown';

/** One presentation of a refresh token that had been exchanged before. */
export interface RefreshTokenReuse {
  /** The built-in provider or profile id. */
  readonly provider: string;
  readonly account: string;
  /** Accepted because it came within the profile's grace window. */
  readonly inGrace: boolean;
  /** Refused (invalid_grant), with whatever revocation the provider's rule adds. */
  readonly refused: boolean;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** The newest reuses kept for tests to read (`Sandbox.refreshTokenReuses()`, GET /_sandbox/reuses). */
export const REUSE_LOG_CAPACITY = 10_000;

/** Every refresh token presented twice, by any provider or profile, newest last. */
export class ReuseLog {
  private entries: RefreshTokenReuse[] = [];

  record(reuse: Omit<RefreshTokenReuse, 'at'>): void {
    this.entries.push({ ...reuse, at: Date.now() });
    if (this.entries.length > REUSE_LOG_CAPACITY) this.entries.shift();
  }

  list(filter: { provider?: string; account?: string } = {}): RefreshTokenReuse[] {
    return this.entries.filter(
      (entry) =>
        (filter.provider === undefined || entry.provider === filter.provider) &&
        (filter.account === undefined || entry.account === filter.account),
    );
  }

  reset(): void {
    this.entries = [];
  }
}

/** Expired records are swept lazily, at most this often, when something new is stored. */
const PRUNE_INTERVAL_MS = 60_000;
/**
 * The default ceiling per kind of record, so a long benchmark cannot grow the process without limit
 * (used refresh tokens live 90 days for reuse detection). Past it the oldest record is forgotten.
 */
export const DEFAULT_MAX_RECORDS_PER_KIND = 100_000;

const perProvider = <T>(make: () => T): PerProvider<T> =>
  Object.fromEntries(PROVIDER_NAMES.map((name) => [name, make()])) as PerProvider<T>;

function emptyCounters() {
  return {
    tokenRequests: 0,
    tokenRequestsByProvider: perProvider<Record<string, number>>(() => ({})),
    codeUses: 0,
    codeReuses: 0,
    refreshTokenUses: 0,
    refreshTokenReuses: 0,
    revokedChains: 0,
    invalidClient: 0,
    liveRecordsEvicted: 0,
  };
}

/** Everything the sandbox remembers, in memory only. */
export class SandboxStore {
  private codes = new Map<string, AuthorizationCode>();
  private accessTokens = new Map<string, AccessToken>();
  private refreshTokens = new Map<string, RefreshToken>();
  private counters = emptyCounters();
  /** In-flight counts survive reset(): requests already running still finish and release their slot. */
  private readonly inFlight = perProvider(() => 0);
  private peakInFlight = perProvider(() => 0);
  private lastPruneAt = Date.now();

  constructor(private readonly maxRecordsPerKind = DEFAULT_MAX_RECORDS_PER_KIND) {}

  saveCode(code: Omit<AuthorizationCode, 'grant'>): string {
    return this.insert(this.codes, code);
  }

  /** A code that has not expired, whether or not it was already exchanged. */
  findCode(provider: ProviderName, value: string): AuthorizationCode | undefined {
    return live(this.codes, provider, value);
  }

  createGrant(fields: Pick<Grant, 'provider' | 'clientId' | 'account' | 'scope'>): Grant {
    return { ...fields, revoked: false, accessTokens: new Set(), refreshTokens: new Set() };
  }

  issueAccessToken(token: AccessToken): string {
    const value = this.insert(this.accessTokens, token);
    token.grant?.accessTokens.add(value);
    return value;
  }

  issueRefreshToken(token: Omit<RefreshToken, 'used'>): string {
    const value = this.insert(this.refreshTokens, { ...token, used: false });
    token.grant.refreshTokens.add(value);
    return value;
  }

  findAccessToken(provider: ProviderName, value: string): AccessToken | undefined {
    return live(this.accessTokens, provider, value);
  }

  /** A refresh token that has not expired, whether or not it was already used. */
  findRefreshToken(provider: ProviderName, value: string): RefreshToken | undefined {
    return live(this.refreshTokens, provider, value);
  }

  /**
   * The account a token request is about, from the refresh token or code it presents (used or not),
   * so faults and holds can be limited to one connection.
   */
  accountOf(provider: ProviderName, body: unknown): string | undefined {
    const { refresh_token: refreshToken, code } = (body ?? {}) as Record<string, unknown>;
    if (typeof refreshToken === 'string') return this.refreshTokens.get(refreshToken)?.grant.account;
    if (typeof code === 'string') {
      const record = this.codes.get(code);
      return record?.provider === provider ? record.account : undefined;
    }
    return undefined;
  }

  /** What the provider would make of this refresh token now (for tests: never says which tokens exist). */
  refreshTokenState(provider: ProviderName, value: string): RefreshTokenState {
    const token = live(this.refreshTokens, provider, value);
    if (!token || token.grant.revoked) return 'unknown';
    return token.used ? 'spent' : 'unspent';
  }

  /** Forgets every token of the chain, so they fail exactly as unknown tokens do. */
  revokeGrant(grant: Grant): void {
    if (grant.revoked) return;
    grant.revoked = true;
    for (const value of grant.accessTokens) this.accessTokens.delete(value);
    for (const value of grant.refreshTokens) this.refreshTokens.delete(value);
    grant.accessTokens.clear();
    grant.refreshTokens.clear();
    this.counters.revokedChains++;
  }

  /** Makes every access token expire now; returns how many were still live. */
  expireAccessTokens(): number {
    const now = Date.now();
    let expired = 0;
    for (const token of this.accessTokens.values()) {
      if (token.expiresAt > now) {
        token.expiresAt = now;
        expired++;
      }
    }
    return expired;
  }

  count(event: CountedEvent): void {
    this.counters[event]++;
  }

  countTokenRequest(provider: ProviderName, grantType: unknown): void {
    const key = typeof grantType === 'string' && COUNTED_GRANT_TYPES.has(grantType) ? grantType : 'other';
    const byGrant = this.counters.tokenRequestsByProvider[provider];
    byGrant[key] = (byGrant[key] ?? 0) + 1;
    this.counters.tokenRequests++;
  }

  /** Marks a token request as in flight; the returned function ends it (calling it again does nothing). */
  trackTokenRequest(provider: ProviderName): () => void {
    const inFlight = ++this.inFlight[provider];
    this.peakInFlight[provider] = Math.max(this.peakInFlight[provider], inFlight);
    let released = false;
    return () => {
      if (!released) this.inFlight[provider]--;
      released = true;
    };
  }

  stats(): SandboxStats {
    const { tokenRequests, tokenRequestsByProvider, ...events } = this.counters;
    return {
      tokenRequests: { total: tokenRequests, byProvider: structuredClone(tokenRequestsByProvider) },
      ...events,
      maxConcurrentTokenRequests: { ...this.peakInFlight },
      inFlightTokenRequests: { ...this.inFlight },
    };
  }

  reset(): void {
    this.codes = new Map();
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
    this.counters = emptyCounters();
    this.peakInFlight = { ...this.inFlight };
  }

  private insert<T extends { readonly expiresAt: number; readonly grant?: Grant }>(
    records: Map<string, T>,
    record: T,
  ): string {
    this.pruneIfDue();
    if (records.size >= this.maxRecordsPerKind) {
      const oldest = records.keys().next().value;
      if (oldest !== undefined) {
        if ((records.get(oldest)?.expiresAt ?? 0) > Date.now()) this.counters.liveRecordsEvicted++;
        forget(records, oldest);
      }
    }
    const value = randomToken();
    records.set(value, record);
    return value;
  }

  private pruneIfDue(): void {
    const now = Date.now();
    if (now - this.lastPruneAt < PRUNE_INTERVAL_MS) return;
    this.lastPruneAt = now;
    for (const records of [this.codes, this.accessTokens, this.refreshTokens]) {
      for (const [value, record] of records) {
        if (record.expiresAt <= now) forget(records, value);
      }
    }
  }
}

function live<T extends { readonly provider: ProviderName; readonly expiresAt: number }>(
  records: Map<string, T>,
  provider: ProviderName,
  value: string,
): T | undefined {
  const record = records.get(value);
  return record && record.provider === provider && record.expiresAt > Date.now() ? record : undefined;
}

/**
 * Drops a record and its entry in its grant's chain. Token values are unique, so deleting from both of the
 * grant's sets removes exactly this one (and nothing for a code, which no chain lists).
 */
function forget<T extends { readonly grant?: Grant }>(records: Map<string, T>, value: string): void {
  const grant = records.get(value)?.grant;
  grant?.accessTokens.delete(value);
  grant?.refreshTokens.delete(value);
  records.delete(value);
}
