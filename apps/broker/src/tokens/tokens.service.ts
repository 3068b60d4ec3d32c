import { Injectable, Logger } from '@nestjs/common';
import { MIN_VALIDITY_RULE, readMinValidity, tokenAnswerJson } from '@broker/token-api';
import { BrokerError } from '../common/broker-error';
import { RESOURCE_KEY_PATTERN, RESOURCE_KEY_RULE } from '../common/keys';
import { AuditLog } from '../audit/audit-log';
import { BrokerMetrics, TokenOutcome } from '../metrics/broker-metrics';
import type { Caller } from '../clients/clients.service';
import { TokenCache } from './token-cache';
import { RefreshFailedError, TokenRefresher } from './token-refresher';
import { AccessToken, TokenStore } from './token-store';
import { ReadRecorder } from './read-recorder';
import { ATTR, setActiveAttribute } from '../tracing/spans';

/** `minValidity` as the contract has it (the rule is shared with the sidecar agent). */
export function parseMinValidity(raw: unknown): number {
  const minValidity = readMinValidity(raw);
  if (minValidity === null) throw BrokerError.badRequest(MIN_VALIDITY_RULE);
  return minValidity;
}

/**
 * The token path: a valid cached token is answered from memory; otherwise the stored token, and
 * when that lacks `minValidity`, one refresh through the single-flight refresher.
 */
@Injectable()
export class TokensService {
  private readonly logger = new Logger(TokensService.name);

  constructor(
    private readonly cache: TokenCache,
    private readonly store: TokenStore,
    private readonly refresher: TokenRefresher,
    private readonly metrics: BrokerMetrics,
    private readonly audit: AuditLog,
    private readonly reads: ReadRecorder,
  ) {}

  /**
   * The answer's JSON text (`TokenView`). A cached token is answered at once, without a promise:
   * that is nearly every read. Anything else (forbidden, not cached, too short-lived) takes the
   * full path.
   */
  getToken(caller: Caller, key: string, minValiditySeconds: number): string | Promise<string> {
    if (caller.allowsAll || caller.connections.has(key)) {
      // One clock read: the validity checked is the one the answer's expiresIn reports.
      const now = Date.now();
      const cached = this.cache.get(key, minValiditySeconds, now);
      if (cached) {
        // Answered synchronously from memory: counted, not timed (a clock read and a histogram
        // observation would cost more than the answer itself).
        this.counted(caller, key, 'cache_hit', cached);
        return tokenAnswerJson(cached, now);
      }
    }
    // A key no connection can have is refused before anything is counted, cached or logged: its
    // text must never reach the audit trail (whose column holds a valid key) or a metric label.
    if (!RESOURCE_KEY_PATTERN.test(key)) return this.impossibleKey();
    return this.resolveAndCount(caller, key, minValiditySeconds);
  }

  private impossibleKey(): never {
    this.metrics.tokenRequest('not_found');
    setActiveAttribute(ATTR.tokenOutcome, 'not_found');
    throw new BrokerError('not_found', `no connection has that key: connection keys ${RESOURCE_KEY_RULE}`);
  }

  private async resolveAndCount(caller: Caller, key: string, minValiditySeconds: number): Promise<string> {
    const started = process.hrtime.bigint();
    let outcome: TokenOutcome = 'unavailable';
    let token: AccessToken | undefined;
    try {
      const resolved = await this.resolve(caller, key, minValiditySeconds);
      ({ outcome, token } = resolved);
      return tokenAnswerJson(resolved.token);
    } catch (error) {
      outcome = outcomeOf(error);
      throw error;
    } finally {
      this.counted(caller, key, outcome, token, started);
    }
  }

  /**
   * Every token read is counted once: a metric by outcome (with its latency when it was not a
   * cache hit) and an aggregated audit row; a token answered is a read for `when_read`.
   */
  private counted(
    caller: Caller,
    key: string,
    outcome: TokenOutcome,
    token?: AccessToken,
    started?: bigint,
  ): void {
    if (token) this.reads.record(token);
    this.metrics.tokenRequest(outcome, started);
    setActiveAttribute(ATTR.tokenOutcome, outcome);
    this.audit.countTokenRead(caller.name, key, outcome);
  }

  private async resolve(
    caller: Caller,
    key: string,
    minValiditySeconds: number,
  ): Promise<{ token: AccessToken; outcome: TokenOutcome }> {
    if (!caller.allowsAll && !caller.connections.has(key)) {
      throw new BrokerError('forbidden', `this API key may not read connection "${key}"`);
    }
    const cached = this.cache.get(key, minValiditySeconds);
    if (cached) return { token: cached, outcome: 'cache_hit' };
    // A refresh of this connection is already running here: wait for it instead of reading the row.
    const running = this.refresher.inFlightFor(key);
    if (running) return this.refreshed(running);

    let row;
    try {
      row = await this.store.findByKey(key);
    } catch (error) {
      // Postgres is away: a still-valid cached token is better than nothing.
      const fallback = this.cache.peek(key);
      if (fallback) return { token: fallback, outcome: 'degraded' };
      this.logger.warn({ err: error }, 'token read failed and no cached token is left');
      throw new BrokerError(
        'service_unavailable',
        'the token store is unreachable and no valid token is cached',
      );
    }
    if (!row) throw BrokerError.notFound('connection', key);
    const stored = this.store.accessTokenOf(row);
    if (stored && stored.expiresAtMs - Date.now() >= minValiditySeconds * 1000) {
      this.cache.set(stored);
      return { token: stored, outcome: 'stored' };
    }
    return this.refreshed(this.refresher.refresh(row.id, { reason: 'on_demand', minValiditySeconds }, key));
  }

  /** The refreshed token, or the still-unexpired one when the refresh failed. */
  private async refreshed(
    refresh: Promise<AccessToken>,
  ): Promise<{ token: AccessToken; outcome: TokenOutcome }> {
    try {
      return { token: await refresh, outcome: 'refreshed' };
    } catch (error) {
      if (error instanceof RefreshFailedError && error.fallback && error.fallback.expiresAtMs > Date.now()) {
        return { token: error.fallback, outcome: 'degraded' };
      }
      throw error;
    }
  }
}

function outcomeOf(error: unknown): TokenOutcome {
  if (!(error instanceof BrokerError)) return 'unavailable';
  switch (error.code) {
    case 'forbidden':
      return 'forbidden';
    case 'not_found':
      return 'not_found';
    case 'needs_reauthorization':
      return 'needs_reauthorization';
    case 'bad_request':
      return 'bad_request';
    default:
      return 'unavailable';
  }
}
