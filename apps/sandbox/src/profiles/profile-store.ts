import { randomToken } from '../protocol';
import { DEFAULT_MAX_RECORDS_PER_KIND, type PkceChallenge, type RefreshTokenState } from '../state';

/** One approval at a profile and every token issued under it (its lineage). */
export interface ProfileGrant {
  readonly profileId: string;
  readonly clientId: string;
  readonly account: string;
  readonly host: string | undefined;
  readonly scope: readonly string[];
  readonly createdAt: number;
  revoked: boolean;
  readonly accessTokens: Set<string>;
  readonly refreshTokens: Set<string>;
  /** When the newest access token of the grant expires (for an earliest-refresh rule). */
  newestAccessExpiresAt: number;
}

export interface ProfileCode {
  readonly profileId: string;
  readonly clientId: string;
  readonly account: string;
  readonly host: string | undefined;
  readonly scope: readonly string[];
  readonly redirectUri: string;
  readonly redirectUriGiven: boolean;
  readonly pkce?: PkceChallenge;
  /** Whether the authorization request met the profile's conditions for a refresh token. */
  readonly refreshTokenAuthorized: boolean;
  readonly expiresAt: number;
  used: boolean;
  /** The grant its exchange created: revoked if the code comes back (RFC 6749 4.1.2). */
  grant?: ProfileGrant;
}

export interface ProfileAccessToken {
  readonly profileId: string;
  readonly clientId: string;
  readonly host: string | undefined;
  readonly scope: readonly string[];
  readonly account?: string;
  expiresAt: number;
  readonly grant?: ProfileGrant;
}

export interface ProfileRefreshToken {
  readonly profileId: string;
  readonly grant: ProfileGrant;
  readonly scope: readonly string[];
  expiresAt: number;
  /** When it was first exchanged; undefined while unspent. */
  spentAt?: number;
  /** The refresh token issued in exchange for this one. */
  successor?: string;
}

export interface ProfileCounters {
  /** Per grant_type; absent or unknown grant types count as "other". */
  tokenRequests: Record<string, number>;
  codeExchanges: number;
  codeReuses: number;
  refreshGrants: number;
  /** A refresh token presented again after it was spent (accepted or not). */
  refreshTokenReuses: number;
  /** Such presentations that were refused. */
  refreshTokenReusesRefused: number;
  /** Such presentations accepted because they came within the grace window (`grace` rotation). */
  refreshTokenReusesInGrace: number;
  /** Grants whose tokens were all revoked because a spent refresh token came back. */
  lineageRevocations: number;
  earlyRefreshRefused: number;
  /** Grants whose refresh tokens were removed because the account passed the provider's cap. */
  refreshTokensCapped: number;
  invalidClient: number;
  maxConcurrentTokenRequests: number;
  inFlightTokenRequests: number;
}

const COUNTED_GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);

const emptyCounters = (inFlight = 0): ProfileCounters => ({
  tokenRequests: {},
  codeExchanges: 0,
  codeReuses: 0,
  refreshGrants: 0,
  refreshTokenReuses: 0,
  refreshTokenReusesRefused: 0,
  refreshTokenReusesInGrace: 0,
  lineageRevocations: 0,
  earlyRefreshRefused: 0,
  refreshTokensCapped: 0,
  invalidClient: 0,
  maxConcurrentTokenRequests: inFlight,
  inFlightTokenRequests: inFlight,
});

type CountedEvent = Exclude<
  keyof ProfileCounters,
  'tokenRequests' | 'maxConcurrentTokenRequests' | 'inFlightTokenRequests'
>;

/** Everything the profiles remember, in memory only. Token values are random and unique across profiles. */
export class ProfileStore {
  private codes = new Map<string, ProfileCode>();
  private accessTokens = new Map<string, ProfileAccessToken>();
  private refreshTokens = new Map<string, ProfileRefreshToken>();
  /** Accounts that were given a refresh token before, per profile and client (Google's "prompt=consent"). */
  private offlineAccounts = new Set<string>();
  /** Per profile, client and account: the grants holding refresh tokens, oldest first (a cap's count). */
  private grantsWithRefreshTokens = new Map<string, ProfileGrant[]>();
  private counters: Map<string, ProfileCounters>;

  constructor(
    private readonly profileIds: readonly string[],
    private readonly maxRecordsPerKind = DEFAULT_MAX_RECORDS_PER_KIND,
  ) {
    this.counters = new Map(profileIds.map((id) => [id, emptyCounters()]));
  }

  saveCode(code: Omit<ProfileCode, 'used'>): string {
    return insert(this.codes, this.maxRecordsPerKind, { ...code, used: false });
  }

  findCode(profileId: string, value: string): ProfileCode | undefined {
    return live(this.codes, profileId, value);
  }

  createGrant(
    fields: Pick<ProfileGrant, 'profileId' | 'clientId' | 'account' | 'host' | 'scope'>,
  ): ProfileGrant {
    return {
      ...fields,
      createdAt: Date.now(),
      revoked: false,
      accessTokens: new Set(),
      refreshTokens: new Set(),
      newestAccessExpiresAt: 0,
    };
  }

  issueAccessToken(token: ProfileAccessToken): string {
    const value = insert(this.accessTokens, this.maxRecordsPerKind, token);
    if (token.grant) {
      token.grant.accessTokens.add(value);
      token.grant.newestAccessExpiresAt = token.expiresAt;
    }
    return value;
  }

  issueRefreshToken(token: ProfileRefreshToken): string {
    const value = insert(this.refreshTokens, this.maxRecordsPerKind, token);
    token.grant.refreshTokens.add(value);
    return value;
  }

  findAccessToken(profileId: string, value: string): ProfileAccessToken | undefined {
    return live(this.accessTokens, profileId, value);
  }

  findRefreshToken(profileId: string, value: string): ProfileRefreshToken | undefined {
    return live(this.refreshTokens, profileId, value);
  }

  /** The account a token request to a profile is about, from the refresh token or code it presents. */
  accountOf(profileId: string, body: unknown): string | undefined {
    const { refresh_token: refreshToken, code } = (body ?? {}) as Record<string, unknown>;
    if (typeof refreshToken === 'string') {
      const record = this.refreshTokens.get(refreshToken);
      return record?.profileId === profileId ? record.grant.account : undefined;
    }
    if (typeof code === 'string') {
      const record = this.codes.get(code);
      return record?.profileId === profileId ? record.account : undefined;
    }
    return undefined;
  }

  /** What the profile would make of this refresh token now (`none` rotation: never spent). */
  refreshTokenState(profileId: string, value: string): RefreshTokenState {
    const token = live(this.refreshTokens, profileId, value);
    if (!token || token.grant.revoked) return 'unknown';
    return token.spentAt === undefined ? 'unspent' : 'spent';
  }

  refreshTokenRecord(value: string): ProfileRefreshToken | undefined {
    return this.refreshTokens.get(value);
  }

  revokeAccessTokens(grant: ProfileGrant): void {
    for (const value of grant.accessTokens) this.accessTokens.delete(value);
    grant.accessTokens.clear();
  }

  /** The grant's access tokens issued so far expire by `at` at the latest. */
  endAccessTokensBy(grant: ProfileGrant, at: number): void {
    for (const value of grant.accessTokens) {
      const token = this.accessTokens.get(value);
      if (token && token.expiresAt > at) token.expiresAt = at;
    }
  }

  revokeRefreshTokens(grant: ProfileGrant): void {
    for (const value of grant.refreshTokens) this.refreshTokens.delete(value);
    grant.refreshTokens.clear();
  }

  /**
   * Keeps at most `cap` grants with refresh tokens per profile, client and account, the new one
   * included: the oldest lose theirs (Zoho: "If you create the 21st token, the first token
   * generated will be removed"). Returns whether any was removed.
   */
  capRefreshTokenGrants(grant: ProfileGrant, cap: number): boolean {
    const key = `${grant.profileId}\u0000${grant.clientId}\u0000${grant.account}`;
    const grants = this.grantsWithRefreshTokens.get(key) ?? [];
    const live = grants.filter((candidate) => !candidate.revoked && candidate !== grant);
    live.push(grant);
    let removed = false;
    while (live.length > cap) {
      this.revokeRefreshTokens(live.shift()!);
      removed = true;
    }
    this.grantsWithRefreshTokens.set(key, live);
    return removed;
  }

  /** Forgets every token of the grant, so they fail exactly as unknown tokens do. */
  revokeGrant(grant: ProfileGrant): void {
    grant.revoked = true;
    this.revokeAccessTokens(grant);
    this.revokeRefreshTokens(grant);
  }

  hadOfflineAccess(key: string): boolean {
    return this.offlineAccounts.has(key);
  }

  rememberOfflineAccess(key: string): void {
    this.offlineAccounts.add(key);
  }

  /** Expires every live access token now, or only those of one profile; returns how many. */
  expireAccessTokens(profileId?: string): number {
    const now = Date.now();
    let expired = 0;
    for (const token of this.accessTokens.values()) {
      if (token.expiresAt > now && (profileId === undefined || token.profileId === profileId)) {
        token.expiresAt = now;
        if (token.grant) token.grant.newestAccessExpiresAt = Math.min(token.grant.newestAccessExpiresAt, now);
        expired++;
      }
    }
    return expired;
  }

  count(profileId: string, event: CountedEvent): void {
    this.countersOf(profileId)[event]++;
  }

  countTokenRequest(profileId: string, grantType: unknown): void {
    const key = typeof grantType === 'string' && COUNTED_GRANT_TYPES.has(grantType) ? grantType : 'other';
    const byGrant = this.countersOf(profileId).tokenRequests;
    byGrant[key] = (byGrant[key] ?? 0) + 1;
  }

  /** Marks a token request as in flight; the returned function ends it (calling it again does nothing). */
  trackTokenRequest(profileId: string): () => void {
    const counters = this.countersOf(profileId);
    counters.inFlightTokenRequests++;
    counters.maxConcurrentTokenRequests = Math.max(
      counters.maxConcurrentTokenRequests,
      counters.inFlightTokenRequests,
    );
    let released = false;
    return () => {
      // The counters may have been replaced by a reset meanwhile: release on the current ones.
      if (!released) this.countersOf(profileId).inFlightTokenRequests--;
      released = true;
    };
  }

  stats(): Record<string, ProfileCounters> {
    return Object.fromEntries([...this.counters].map(([id, counters]) => [id, structuredClone(counters)]));
  }

  reset(): void {
    this.codes = new Map();
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
    this.offlineAccounts = new Set();
    this.grantsWithRefreshTokens = new Map();
    this.counters = new Map(
      this.profileIds.map((id) => [id, emptyCounters(this.counters.get(id)?.inFlightTokenRequests ?? 0)]),
    );
  }

  private countersOf(profileId: string): ProfileCounters {
    const counters = this.counters.get(profileId);
    if (!counters) throw new Error(`Unknown sandbox profile ${profileId}`);
    return counters;
  }
}

/** Past the ceiling the oldest record is forgotten, so a long run cannot grow the process without limit. */
function insert<T>(records: Map<string, T>, ceiling: number, record: T): string {
  if (records.size >= ceiling) {
    const oldest = records.keys().next().value;
    if (oldest !== undefined) records.delete(oldest);
  }
  const value = randomToken();
  records.set(value, record);
  return value;
}

function live<T extends { readonly profileId: string; readonly expiresAt: number }>(
  records: Map<string, T>,
  profileId: string,
  value: string,
): T | undefined {
  const record = records.get(value);
  return record && record.profileId === profileId && record.expiresAt > Date.now() ? record : undefined;
}
