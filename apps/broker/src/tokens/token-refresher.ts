import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import {
  bindConnectionConfig,
  NeedsReauthorizationError,
  ProviderConfigError,
  ProviderError,
  ProviderMisconfiguredError,
  protocolFor,
  RotatedAnswerUnusableError,
  TokenSet,
} from '@broker/providers';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { IntegrationRuntime, IntegrationsService } from '../integrations/integrations.service';
import { ConnectionEntity } from '../model/connection.entity';
import {
  notBeforeRefreshWindow,
  planNextRefresh,
  planRefreshTokenExpiry,
  planWithRefreshTokenLifetime,
} from './refresh-plan';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { TokenEvents } from './token-events';
import { ConcurrencyLimiter } from './concurrency-limiter';
import { ConnectionEvents } from '../event-bus/connection-events';
import { TokenCache } from './token-cache';
import { RotatedTokenGuard } from './rotated-token-guard';
import { backoffRemainingMs, refreshHeldBack } from './refresh-interval';
import { failsAsOutcomeUnknown, previousRefreshRule, settlesRecord } from './refresh-record';
import {
  AccessToken,
  FailureWrite,
  Lease,
  REFRESH_OUTCOME_UNKNOWN,
  servedUntilExpiry,
  TokenStore,
  TokenWrite,
} from './token-store';
import { ATTR, errorType, inSpan, setActiveAttribute } from '../tracing/spans';

export type RefreshReason = 'on_demand' | 'scheduled' | 'admin' | 'initial';

export interface RefreshRequest {
  reason: RefreshReason;
  /** Seconds the token must still have; a stored token that has them is returned as it is. */
  minValiditySeconds: number;
  /** Refresh even when the stored token is still good enough (admin "refresh now"). */
  force?: boolean;
  /** A scheduled job planned for this token version; if the token has moved on, there is nothing to do. */
  expectedVersion?: number;
}

/** A refresh that did not produce a token. `fallback` is a still-unexpired token, if one is left. */
export class RefreshFailedError extends BrokerError {
  constructor(
    error: BrokerError,
    readonly fallback: AccessToken | null,
    readonly providerError?: ProviderError,
  ) {
    super(error.code, error.message, error.headers);
  }
}

/** `hold`: the cache takes the token; `replace`: it only replaces a token it holds already. */
type CacheUse = 'hold' | 'replace';

/**
 * A scheduled refresh only replaces a token the cache holds: the scheduler refreshes connections
 * nobody may read, and the cache's memory should follow the reads. Everyone else is about to use it.
 */
function cacheUseFor(reason: RefreshReason): CacheUse {
  return reason === 'scheduled' ? 'replace' : 'hold';
}

const WAIT_SLICE_MS = 500;
const PENDING_WRITE_RETRY_MS = 500;
/** Seconds a lease outlives the provider call it covers, from the moment the request is sent. */
const LEASE_MARGIN_SECONDS = 5;

/** The lease was taken over while the refresh waited for its slot: nothing was sent. */
const LEASE_LOST = Symbol('lease lost');

class LeaseLostError extends Error {}

/** A write Postgres could not take, kept in memory and retried. */
type PendingWrite = { lease: Lease; write: TokenWrite } | { lease: Lease; failure: FailureWrite };

/**
 * The one way a token is refreshed, for the token API, the scheduler and the admin API alike.
 *
 * Within a replica, concurrent callers for one connection share one promise. Across replicas, a
 * lease on the connection's row in Postgres admits one holder; the holder re-reads the row it
 * leased (another replica may have refreshed meanwhile), calls the provider once, and writes the
 * new tokens only while its lease is still the row's. Everyone else waits for the NOTIFY of that
 * write and takes the stored token. A holder that dies loses the lease when it expires.
 */
@Injectable()
export class TokenRefresher implements OnApplicationShutdown {
  private readonly logger = new Logger(TokenRefresher.name);
  private readonly inFlight = new Map<string, Promise<AccessToken>>();
  /** The same promises by connection key, so a herd of readers can join without a database read each. */
  private readonly inFlightByKey = new Map<string, Promise<AccessToken>>();
  private readonly upstreamLimiter: ConcurrencyLimiter;
  /** Provider answers whose database write failed; retried until Postgres takes them. */
  private readonly pendingWrites = new Map<string, PendingWrite>();
  private pendingTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly env: BrokerEnvironment,
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly events: ConnectionEvents,
    private readonly integrations: IntegrationsService,
    private readonly metrics: BrokerMetrics,
    private readonly tokenEvents: TokenEvents,
    private readonly rotatedTokens: RotatedTokenGuard,
  ) {
    this.upstreamLimiter = new ConcurrencyLimiter(env.BROKER_INTEGRATION_CONCURRENCY);
  }

  /** A token satisfying the request; concurrent calls for one connection share the same work. */
  refresh(connectionId: string, request: RefreshRequest, connectionKey?: string): Promise<AccessToken> {
    const running = this.inFlight.get(connectionId);
    if (running) return running;
    const work = inSpan(
      'token.refresh',
      { [ATTR.connectionId]: connectionId, [ATTR.refreshReason]: request.reason },
      () => this.refreshAcrossCluster(connectionId, request),
    ).finally(() => {
      this.inFlight.delete(connectionId);
      if (connectionKey) this.inFlightByKey.delete(connectionKey);
    });
    this.inFlight.set(connectionId, work);
    if (connectionKey) this.inFlightByKey.set(connectionKey, work);
    return work;
  }

  /** The refresh of that connection this replica is running, if any. */
  inFlightFor(connectionKey: string): Promise<AccessToken> | undefined {
    return this.inFlightByKey.get(connectionKey);
  }

  get pendingWriteCount(): number {
    return this.pendingWrites.size;
  }

  private async refreshAcrossCluster(connectionId: string, request: RefreshRequest): Promise<AccessToken> {
    // A scheduled job knows the version it was planned for, and its processor has just read the
    // row: the lease's own read is the first one (at a million connections, reads are the cost).
    let startVersion: number;
    if (request.expectedVersion !== undefined) {
      startVersion = request.expectedVersion;
    } else {
      const first = await this.requireRow(connectionId);
      startVersion = first.tokenVersion;
      const firstToken = this.store.accessTokenOf(first);
      setActiveAttribute(ATTR.connection, first.key);
      if (!request.force && firstToken && this.answersAsItIs(first, firstToken, request)) {
        setActiveAttribute(ATTR.refreshResult, 'already_fresh');
        return this.remember(firstToken, cacheUseFor(request.reason));
      }
      this.throwIfBackingOff(first, firstToken, request);
    }

    let deadline = Date.now() + (this.env.BROKER_REFRESH_LEASE_SECONDS + 5) * 1000;
    let mayAcquire = true;
    for (;;) {
      const acquired = mayAcquire
        ? await inSpan('token.refresh.lease', {}, async (span) => {
            const lease = await this.store.tryAcquireLease(
              connectionId,
              this.env.BROKER_REFRESH_LEASE_SECONDS,
            );
            span.setAttribute(ATTR.leaseAcquired, lease !== null);
            return lease;
          })
        : null;
      mayAcquire = true;
      if (acquired) {
        const refreshed = await this.refreshHolding(acquired.lease, acquired.row, startVersion, request);
        if (refreshed !== LEASE_LOST) return refreshed;
        // Another replica took the lease while this refresh waited for its slot: its write is the
        // answer. Wait for it as any other waiter, from now.
        setActiveAttribute(ATTR.refreshResult, 'lease_lost_before_send');
        deadline = Date.now() + (this.env.BROKER_REFRESH_LEASE_SECONDS + 5) * 1000;
        mayAcquire = false;
      }

      // Another replica holds the lease: wait for its write, then take what it stored.
      await this.events.waitForChange(connectionId, WAIT_SLICE_MS);
      const row = await this.requireRow(connectionId);
      const token = this.store.accessTokenOf(row);
      if (
        token &&
        (row.tokenVersion > startVersion ||
          (!request.force && (this.satisfies(token, request) || servedUntilExpiry(row))))
      ) {
        setActiveAttribute(ATTR.refreshResult, 'written_by_another_holder');
        return this.remember(token, cacheUseFor(request.reason));
      }
      this.throwIfUnusable(row);
      if (Date.now() > deadline) {
        throw new RefreshFailedError(
          new BrokerError(
            'provider_unavailable',
            `the refresh of connection "${row.key}" did not finish in time`,
          ),
          token,
        );
      }
    }
  }

  private async refreshHolding(
    lease: Lease,
    row: ConnectionEntity,
    startVersion: number,
    request: RefreshRequest,
  ): Promise<AccessToken | typeof LEASE_LOST> {
    let runtime: IntegrationRuntime;
    let current: AccessToken | null;
    let refreshToken: string | null;
    setActiveAttribute(ATTR.connection, row.key);
    try {
      current = this.store.accessTokenOf(row);
      // Forced (an admin's "refresh now"), a newer token written by another holder is not enough.
      const movedOn = row.tokenVersion > startVersion && !request.force;
      if (
        current &&
        (movedOn ||
          this.supersedes(row, request) ||
          (!request.force && this.answersAsItIs(row, current, request)))
      ) {
        await this.store.releaseLease(lease);
        setActiveAttribute(ATTR.refreshResult, 'already_fresh');
        return this.remember(current, cacheUseFor(request.reason));
      }
      this.throwIfUnusable(row);
      runtime = await this.integrations.runtimeById(row.integrationId);
      refreshToken = this.store.open(row).refreshToken;
      // The provider refuses a refresh this early (Exact Online): the current token is the answer,
      // whatever minValidity asked, and the scheduler comes back when it may. An admin's "refresh
      // now" still asks the provider: the admin may know the token is gone (revoked, expired early).
      if (current && request.reason !== 'admin' && this.refusedAsEarly(runtime, current)) {
        await this.store.releaseLease(lease);
        setActiveAttribute(ATTR.refreshResult, 'too_early');
        return this.remember(current, cacheUseFor(request.reason));
      }
      this.throwIfBackingOff(row, current, request);
    } catch (error) {
      await this.store.releaseLease(lease).catch(() => undefined);
      throw error;
    }

    // A refresh before this one left and its outcome was never settled (a crash, a lost answer,
    // Postgres away at the write): the provider's rotation rule says whether it may be sent again.
    if (
      previousRefreshRule(runtime.provider, row, refreshToken, this.leaseSecondsForCall()) ===
      'outcome_unknown'
    ) {
      setActiveAttribute(ATTR.refreshResult, 'outcome_unknown');
      throw await this.recordOutcomeUnknown(lease, row, runtime, current, 'an earlier refresh');
    }

    const started = process.hrtime.bigint();
    let tokens: TokenSet;
    setActiveAttribute(ATTR.integration, runtime.entity.key);
    try {
      // The span includes the wait for this integration's concurrency slot.
      tokens = await inSpan(
        'provider.token_call',
        {
          [ATTR.integration]: runtime.entity.key,
          [ATTR.providerKind]: runtime.provider.kind,
          [ATTR.providerGrant]:
            runtime.provider.grantType === 'client_credentials' ? 'client_credentials' : 'refresh_token',
        },
        async (span) => {
          try {
            const granted = await this.upstreamLimiter.run(runtime.entity.id, async () => {
              // The slot is granted: check the fence and extend the lease over the whole call,
              // with the write-ahead record in the same statement. A wait for the slot never
              // eats into the time another replica relies on.
              if (!(await this.store.beginRefresh(lease, this.leaseSecondsForCall(), refreshToken)))
                throw new LeaseLostError();
              return this.callProvider(runtime, row, refreshToken);
            });
            span.setAttribute(ATTR.providerOutcome, 'success');
            return granted;
          } catch (error) {
            span.setAttribute(ATTR.providerOutcome, errorType(error));
            throw error;
          }
        },
      );
      this.metrics.observeRefresh(runtime.entity.key, request.reason, 'success', started);
    } catch (error) {
      if (error instanceof LeaseLostError) return LEASE_LOST;
      if (!(error instanceof ProviderError)) {
        await this.store.releaseLease(lease).catch(() => undefined);
        throw error;
      }
      this.metrics.observeRefresh(runtime.entity.key, request.reason, error.code, started);
      setActiveAttribute(ATTR.refreshResult, 'failed');
      throw await inSpan('token.refresh.write', { [ATTR.writeResult]: 'failure' }, () =>
        this.recordFailure(lease, row, runtime, current, error),
      );
    }

    const write = this.planWrite(runtime, row, tokens, refreshToken);
    const stored = await inSpan('token.refresh.write', { [ATTR.writeResult]: 'tokens' }, () =>
      this.storeTokens(lease, row, write, cacheUseFor(request.reason)),
    );
    setActiveAttribute(ATTR.refreshResult, 'refreshed');
    this.tokenEvents.statusChanged({
      connection: row.key,
      integration: runtime.entity.key,
      from: row.status,
      to: 'active',
      lastError: null,
    });
    return stored;
  }

  private callProvider(
    runtime: IntegrationRuntime,
    row: ConnectionEntity,
    refreshToken: string | null,
  ): Promise<TokenSet> {
    const protocol = protocolFor(runtime.provider.kind);
    const options = {
      timeoutMs: this.env.BROKER_PROVIDER_TIMEOUT_MS,
      defaultExpiresInSeconds: this.env.BROKER_DEFAULT_EXPIRES_IN,
    };
    let bound;
    try {
      bound = bindConnectionConfig(runtime.provider, row.config);
    } catch (error) {
      if (error instanceof ProviderConfigError)
        return Promise.reject(new ProviderMisconfiguredError(error.message));
      throw error;
    }
    const provider = row.requestedScopes ? { ...bound, scopes: row.requestedScopes } : bound;
    if (provider.grantType === 'client_credentials') {
      return protocol.clientCredentials(provider, runtime.client, options);
    }
    if (!refreshToken) {
      throw new NeedsReauthorizationError(
        'the connection holds no refresh token: the account must authorize again',
      );
    }
    return protocol.refresh(provider, runtime.client, { refreshToken }, options);
  }

  /**
   * Stores the tokens of a completed authorization. It takes no lease: a new authorization
   * supersedes whatever refresh may be in flight, whose fenced write will then not land.
   */
  async storeAuthorized(
    runtime: IntegrationRuntime,
    row: ConnectionEntity,
    tokens: TokenSet,
  ): Promise<AccessToken> {
    const write = this.planWrite(runtime, row, tokens, null);
    const stored = await this.store.writeTokens(row.id, null, write);
    if (!stored)
      throw new BrokerError('not_found', `connection "${row.key}" was deleted during the authorization`);
    this.afterWrite(stored, write.nextRefreshAt, 'hold');
    return stored;
  }

  /** The provider would refuse a refresh now: the token has more left than its refresh window. */
  private refusedAsEarly(runtime: IntegrationRuntime, current: AccessToken): boolean {
    const window = runtime.provider.refreshWindowSeconds;
    return window !== undefined && current.expiresAtMs - Date.now() > window * 1000;
  }

  private planWrite(
    runtime: IntegrationRuntime,
    row: ConnectionEntity,
    tokens: TokenSet,
    previousRefreshToken: string | null,
  ): TokenWrite {
    if (tokens.expiresInDefaulted && runtime.provider.defaultExpiresInSeconds === undefined) {
      this.logger.warn(
        { integration: runtime.entity.key, connection: row.key },
        `provider omitted expires_in; assuming ${this.env.BROKER_DEFAULT_EXPIRES_IN} s`,
      );
    }
    if (tokens.lifetimeWarning) {
      this.logger.warn({ integration: runtime.entity.key, connection: row.key }, tokens.lifetimeWarning);
    }
    const issuedAt = Date.now();
    const { provider } = runtime;
    const refreshToken = tokens.refreshToken ?? previousRefreshToken;
    const refreshTokenExpiresAt = planRefreshTokenExpiry(
      provider.refreshTokenLifetimeSeconds,
      provider.refreshTokenIdleSeconds,
      tokens,
      refreshToken,
      row.refreshTokenExpiresAt,
      issuedAt,
    );
    let nextRefreshAt = planWithRefreshTokenLifetime(
      planNextRefresh(issuedAt, tokens.expiresIn),
      issuedAt,
      refreshTokenExpiresAt,
    );
    if (provider.refreshWindowSeconds !== undefined) {
      nextRefreshAt = notBeforeRefreshWindow(
        nextRefreshAt,
        issuedAt,
        tokens.expiresIn,
        provider.refreshWindowSeconds,
      );
    }
    return {
      tokens,
      previousRefreshToken,
      nextRefreshAt,
      refreshTokenLifetimeSeconds: provider.refreshTokenLifetimeSeconds,
      refreshTokenExpiresAt,
      // Present (at least {}) exactly when the entry keeps metadata, so the answer carries it.
      metadata: provider.metadata ? (tokens.metadata ?? {}) : undefined,
    };
  }

  /** Writes the new tokens; when Postgres cannot take them, keeps them and retries, serving them meanwhile. */
  private async storeTokens(
    lease: Lease,
    row: ConnectionEntity,
    write: TokenWrite,
    cacheUse: CacheUse,
  ): Promise<AccessToken> {
    let stored: AccessToken | null;
    try {
      stored = await this.store.writeTokens(row.id, lease, write);
    } catch (error) {
      this.logger.error(
        { err: error, connection: row.key },
        'new tokens could not be written; keeping them and retrying until Postgres is back',
      );
      this.pendingWrites.set(row.id, { lease, write });
      this.schedulePendingWrites();
      if (write.tokens.refreshToken) await this.rotatedTokens.writeFailed(row, lease, error);
      const interim: AccessToken = {
        connectionId: row.id,
        connectionKey: row.key,
        integrationId: row.integrationId,
        accessToken: write.tokens.accessToken,
        tokenType: write.tokens.tokenType,
        expiresAtMs: Date.now() + write.tokens.expiresIn * 1000,
        scope: write.tokens.scope ?? row.scope,
        tokenVersion: row.tokenVersion + 1,
        status: 'active',
        metadata: write.metadata ? { ...row.metadata, ...write.metadata } : (row.metadata ?? null),
      };
      // An answer with a lifetime shorter than the token the row still holds (expires_in 0, clamped
      // to a second) must not push out that token while the write waits: the provider still takes
      // it, and it is what this replica can serve until Postgres is back.
      const held = this.store.accessTokenOf(row);
      if (held && held.expiresAtMs > interim.expiresAtMs) return this.remember(held, cacheUse);
      this.cache.set(interim);
      return interim;
    }
    if (!stored) {
      // Our lease expired and another holder took it: its write is the truth from now on.
      this.logger.error(
        { connection: row.key },
        'refresh lease was lost before the write; the newer write stands',
      );
      const latest = await this.requireRow(row.id);
      const token = this.store.accessTokenOf(latest);
      if (token) return this.remember(token, cacheUse);
      throw new RefreshFailedError(
        new BrokerError('provider_unavailable', `connection "${row.key}" changed during the refresh`),
        null,
      );
    }
    this.afterWrite(stored, write.nextRefreshAt, cacheUse);
    return stored;
  }

  private afterWrite(stored: AccessToken, nextRefreshAt: Date, cacheUse: CacheUse): void {
    this.remember(stored, cacheUse);
    this.events.publishLocal({
      id: stored.connectionId,
      key: stored.connectionKey,
      v: stored.tokenVersion,
      kind: 'tokens',
    });
    this.metrics.tokenStored(stored.expiresAtMs);
    this.tokenEvents.refreshPlanned([
      { connectionId: stored.connectionId, tokenVersion: stored.tokenVersion, runAt: nextRefreshAt },
    ]);
  }

  private schedulePendingWrites(): void {
    if (this.pendingTimer) return;
    this.pendingTimer = setTimeout(() => {
      this.pendingTimer = null;
      void this.flushPendingWrites();
    }, PENDING_WRITE_RETRY_MS);
  }

  private async flushPendingWrites(): Promise<void> {
    for (const [connectionId, pending] of this.pendingWrites) {
      if ('failure' in pending) {
        try {
          const written = await this.store.writeFailure(connectionId, pending.lease, pending.failure);
          this.pendingWrites.delete(connectionId);
          this.logger.log(
            { connectionId, written: written !== null },
            'kept refresh failure written after Postgres came back',
          );
        } catch {
          // Still down: try again on the next round.
        }
        continue;
      }
      const { lease, write } = pending;
      try {
        const stored = await this.store.writeTokens(connectionId, lease, write);
        this.pendingWrites.delete(connectionId);
        if (stored) {
          this.logger.log({ connectionId }, 'kept tokens written after Postgres came back');
          // The interim token was held while the write waited: replacing it is enough.
          this.afterWrite(stored, write.nextRefreshAt, 'replace');
        } else {
          this.logger.error({ connectionId }, 'kept tokens were fenced out by a newer refresh');
          this.cache.evictById(connectionId);
        }
      } catch {
        // Still down: try again on the next round.
      }
    }
    if (this.pendingWrites.size > 0) this.schedulePendingWrites();
  }

  private async recordFailure(
    lease: Lease,
    row: ConnectionEntity,
    runtime: IntegrationRuntime,
    current: AccessToken | null,
    error: ProviderError,
  ): Promise<RefreshFailedError> {
    const usable = current && current.expiresAtMs > Date.now() ? current : null;
    const codeFlow = runtime.provider.grantType === 'authorization_code';
    if (
      failsAsOutcomeUnknown(runtime.provider, error.outcome) &&
      !(error instanceof RotatedAnswerUnusableError)
    )
      return this.recordOutcomeUnknown(lease, row, runtime, current, `this refresh (${error.message})`);
    let failure: FailureWrite;
    let brokerError: BrokerError;
    if (error instanceof NeedsReauthorizationError && codeFlow) {
      failure = {
        status: 'needs_reauthorization',
        code: error.code,
        message: error.message,
        clearTokens: true,
      };
      brokerError = new BrokerError(
        'needs_reauthorization',
        `connection "${row.key}" needs re-authorization: ${error.message}`,
      );
    } else {
      const misconfigured =
        error instanceof ProviderMisconfiguredError || error instanceof NeedsReauthorizationError;
      failure = {
        status: usable && !misconfigured ? row.status : 'error',
        code: misconfigured ? 'misconfigured' : error.code,
        message: misconfigured
          ? `integration "${runtime.entity.key}" is misconfigured: ${error.message}`
          : error.message,
        clearTokens: false,
      };
      const retryAfter = error.retryAfterMs
        ? { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) }
        : undefined;
      brokerError = new BrokerError(
        'provider_unavailable',
        `the provider did not refresh connection "${row.key}": ${failure.message}`,
        retryAfter,
      );
      failure.settled = settlesRecord(runtime.provider, error.outcome);
      if (error.retryAfterMs) failure.notBefore = new Date(Date.now() + error.retryAfterMs);
      if (error instanceof RotatedAnswerUnusableError) {
        // The provider rotated: its new refresh token is the only live one. It is stored with the
        // failure, so the next refresh presents it and never the spent one.
        failure.settled = true;
        failure.rotatedRefreshToken = {
          refreshToken: error.rotatedRefreshToken,
          expiresAt: planRefreshTokenExpiry(
            runtime.provider.refreshTokenLifetimeSeconds,
            runtime.provider.refreshTokenIdleSeconds,
            { refreshToken: error.rotatedRefreshToken, refreshTokenExpiresIn: error.refreshTokenExpiresIn },
            error.rotatedRefreshToken,
            row.refreshTokenExpiresAt,
            Date.now(),
          ),
        };
      }
    }
    this.logger.warn(
      { connection: row.key, integration: runtime.entity.key, code: failure.code },
      failure.message,
    );
    try {
      await this.writeFailureAnnounced(row, lease, runtime, failure);
    } catch (writeError) {
      this.logger.error({ err: writeError, connection: row.key }, 'refresh failure could not be recorded');
      // Kept and retried as a token write is; the lease stays, so the retried write still lands
      // and settles the write-ahead record (else the next holder would take a known outcome for
      // an unknown one). A rotated refresh token is marked as any unsaved rotated token is.
      this.pendingWrites.set(row.id, { lease, failure });
      this.schedulePendingWrites();
      if (failure.rotatedRefreshToken) await this.rotatedTokens.writeFailed(row, lease, writeError);
    }
    if (failure.clearTokens) this.cache.evictById(row.id);
    return new RefreshFailedError(brokerError, failure.clearTokens ? null : usable, error);
  }

  /** Records the failure on the row and announces the connection's new status. */
  private async writeFailureAnnounced(
    row: ConnectionEntity,
    lease: Lease,
    runtime: IntegrationRuntime,
    failure: FailureWrite,
  ): Promise<void> {
    await this.store.writeFailure(row.id, lease, failure);
    this.tokenEvents.statusChanged({
      connection: row.key,
      integration: runtime.entity.key,
      from: row.status,
      to: failure.status,
      lastError: failure.message,
    });
  }

  /**
   * A refresh token that a reuse would revoke may have been consumed by a request whose answer was
   * lost: it is not sent again. The connection needs re-authorization (reason
   * `refresh_outcome_unknown`), its access token is served until it expires, and it is counted for
   * the alert TokenBrokerRefreshOutcomeUnknown.
   */
  private async recordOutcomeUnknown(
    lease: Lease,
    row: ConnectionEntity,
    runtime: IntegrationRuntime,
    current: AccessToken | null,
    which: string,
  ): Promise<RefreshFailedError> {
    this.metrics.refreshOutcomeUnknown();
    const usable = current && current.expiresAtMs > Date.now() ? current : null;
    const failure: FailureWrite = {
      status: 'needs_reauthorization',
      code: REFRESH_OUTCOME_UNKNOWN,
      message:
        `${REFRESH_OUTCOME_UNKNOWN}: the outcome of ${which} is unknown (the request left and no answer came back), ` +
        `and ${runtime.entity.key}'s provider revokes a refresh token used twice: authorize the connection again ` +
        '(or import its tokens); its access token is served until it expires',
      clearTokens: false,
      settled: true,
    };
    this.logger.error(
      { connection: row.key, integration: runtime.entity.key, code: failure.code },
      failure.message,
    );
    try {
      await this.writeFailureAnnounced(row, lease, runtime, failure);
    } catch (writeError) {
      // The record stays on the row: the next holder comes to the same conclusion.
      this.logger.error(
        { err: writeError, connection: row.key },
        'unknown refresh outcome could not be recorded',
      );
    }
    if (usable) this.remember({ ...usable, status: 'needs_reauthorization' }, 'replace');
    return new RefreshFailedError(
      new BrokerError(
        'needs_reauthorization',
        `connection "${row.key}" needs re-authorization: ${failure.message}`,
      ),
      usable,
    );
  }

  private throwIfUnusable(row: ConnectionEntity): void {
    if (row.status === 'needs_reauthorization') {
      throw new BrokerError(
        'needs_reauthorization',
        `connection "${row.key}" needs re-authorization${row.lastError ? `: ${row.lastError}` : ''}`,
      );
    }
    if (row.status === 'pending_authorization') {
      throw new BrokerError('needs_reauthorization', `connection "${row.key}" has not been authorized yet`);
    }
  }

  /** The token has the asked validity, or an on-demand refresh is held back (see refresh-interval.ts). */
  private answersAsItIs(row: ConnectionEntity, token: AccessToken, request: RefreshRequest): boolean {
    if (this.satisfies(token, request)) return true;
    // Its refresh's outcome was unknown: the token it holds is served as it is until it expires.
    if (servedUntilExpiry(row) && token.expiresAtMs > Date.now()) return true;
    return (
      request.reason === 'on_demand' &&
      (refreshHeldBack(
        row.lastRefreshedAt,
        token,
        this.env.BROKER_MIN_REFRESH_INTERVAL_SECONDS,
        Date.now(),
        row.lastAttemptedAt,
      ) ||
        (token.expiresAtMs > Date.now() && backoffRemainingMs(row, 0) > 0))
    );
  }

  /**
   * A reader's refresh during a backoff (the provider's Retry-After, or a failed attempt within the
   * least refresh interval) is not sent: the current valid token is the answer (as the failure's
   * fallback), or 503 provider_unavailable with Retry-After.
   */
  private throwIfBackingOff(
    row: ConnectionEntity,
    current: AccessToken | null,
    request: RefreshRequest,
  ): void {
    if (request.reason !== 'on_demand') return;
    const waitMs = backoffRemainingMs(row, this.env.BROKER_MIN_REFRESH_INTERVAL_SECONDS);
    if (waitMs <= 0) return;
    setActiveAttribute(ATTR.refreshResult, 'backing_off');
    const usable = current && current.expiresAtMs > Date.now() ? current : null;
    throw new RefreshFailedError(
      new BrokerError(
        'provider_unavailable',
        `the provider's refresh of connection "${row.key}" is backing off${row.lastError ? `: ${row.lastError}` : ''}`,
        { 'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))) },
      ),
      usable,
    );
  }

  /** The lease a request is sent under: the provider's whole timeout, and a margin. */
  private leaseSecondsForCall(): number {
    return Math.max(
      this.env.BROKER_REFRESH_LEASE_SECONDS,
      Math.ceil(this.env.BROKER_PROVIDER_TIMEOUT_MS / 1000) + LEASE_MARGIN_SECONDS,
    );
  }

  /**
   * The row holds a newer token than the scheduled job was planned for: a refresh already
   * happened (a read, another replica, the same job queued again after a Redis flush), and the
   * job has nothing to do, forced or not.
   */
  private supersedes(row: ConnectionEntity, request: RefreshRequest): boolean {
    return request.expectedVersion !== undefined && row.tokenVersion !== request.expectedVersion;
  }

  private satisfies(token: AccessToken, request: RefreshRequest): boolean {
    return token.expiresAtMs - Date.now() >= request.minValiditySeconds * 1000;
  }

  private remember(token: AccessToken, cacheUse: CacheUse): AccessToken {
    if (cacheUse === 'replace') this.cache.replace(token);
    else this.cache.set(token);
    return token;
  }

  private async requireRow(connectionId: string): Promise<ConnectionEntity> {
    const row = await this.store.findById(connectionId);
    if (!row) throw new BrokerError('not_found', 'the connection was deleted');
    return row;
  }

  onApplicationShutdown(): void {
    if (this.pendingTimer) clearTimeout(this.pendingTimer);
    if (this.pendingWrites.size > 0) {
      this.logger.error(
        { pending: this.pendingWrites.size },
        'exiting with token writes Postgres never took',
      );
    }
  }
}
