import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, collectDefaultMetrics, Registry } from 'prom-client';

export const TOKEN_OUTCOMES = [
  'cache_hit',
  'stored',
  'refreshed',
  'degraded',
  'unauthorized',
  'forbidden',
  'not_found',
  'needs_reauthorization',
  'unavailable',
  'bad_request',
] as const;
export type TokenOutcome = (typeof TOKEN_OUTCOMES)[number];

/**
 * The broker's Prometheus metrics. Labels are bounded: integration keys (admin-chosen, few) and
 * fixed outcome sets; connection keys never become labels.
 */
@Injectable()
export class BrokerMetrics {
  readonly registry = new Registry();

  /**
   * Token requests counted as plain numbers and added to the counter when it is collected: the
   * token path then pays an increment, not prom-client's label hashing and validation.
   */
  private readonly tokenRequestsPending = new Map<TokenOutcome, number>();

  private readonly tokenRequests: Counter<'outcome'> = new Counter({
    name: 'broker_token_requests_total',
    help: 'GET /tokens requests by outcome',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [outcome, count] of this.tokenRequestsPending) {
        if (count > 0) this.tokenRequests.inc({ outcome }, count);
      }
      this.tokenRequestsPending.clear();
    },
  });

  private readonly refreshes = new Counter({
    name: 'broker_refresh_attempts_total',
    help: 'Upstream token calls by integration, reason and outcome',
    labelNames: ['integration', 'reason', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly refreshSeconds = new Histogram({
    name: 'broker_refresh_duration_seconds',
    help: 'Latency of upstream token calls',
    labelNames: ['integration', 'outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  private readonly schedulerLag = new Histogram({
    name: 'broker_scheduler_lag_seconds',
    help: 'How late a scheduled refresh started after its planned time',
    buckets: [0.1, 0.5, 1, 2, 5, 15, 60, 300],
    registers: [this.registry],
  });

  private readonly soonestExpiry = new Gauge({
    name: 'broker_soonest_token_expiry_seconds',
    help: 'Seconds until the soonest expiry among tokens this process stored or read recently',
    registers: [this.registry],
  });

  private readonly providerErrors = new Counter({
    name: 'broker_upstream_errors_total',
    help: 'Failed upstream token calls by error class',
    labelNames: ['class'] as const,
    registers: [this.registry],
  });

  // Alerting (deploy/monitoring): latency of the token API, and the state of the connections as
  // Postgres holds it, set by the reconciler on every worker (alerts aggregate with max/min).
  private readonly tokenRequestSeconds = new Histogram({
    name: 'broker_token_request_duration_seconds',
    help: 'Time GET /tokens spent answering what its cache could not (after the caller was identified), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly connectionsByStatus = new Gauge({
    name: 'broker_connections',
    help: 'Connections by integration and status, as of the last reconcile',
    labelNames: ['integration', 'status'] as const,
    registers: [this.registry],
  });

  private readonly refreshTokenSoonestExpiry = new Gauge({
    name: 'broker_refresh_token_soonest_expiry_seconds',
    help: 'Seconds until the soonest refresh-token expiry among active connections of an integration, as of the last reconcile',
    labelNames: ['integration'] as const,
    registers: [this.registry],
  });

  private readonly overdueRefreshes = new Gauge({
    name: 'broker_refresh_overdue_connections',
    help: 'Active connections whose planned refresh is more than a minute late, as of the last reconcile',
    registers: [this.registry],
  });

  private soonestExpiryMs = Number.POSITIVE_INFINITY;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.soonestExpiry.set(0);
  }

  /** Counts a token answer; times it too when it started at `startedNs` (cache misses only). */
  tokenRequest(outcome: TokenOutcome, startedNs?: bigint): void {
    this.tokenRequestsPending.set(outcome, (this.tokenRequestsPending.get(outcome) ?? 0) + 1);
    if (startedNs !== undefined) {
      this.tokenRequestSeconds.observe({ outcome }, Number(process.hrtime.bigint() - startedNs) / 1e9);
    }
  }

  /** Replaces the connection gauges with what the reconciler just counted in Postgres. */
  setConnectionState(state: {
    byStatus: { integration: string; status: string; count: number }[];
    refreshTokenSoonestExpiry: { integration: string; expiresAt: Date }[];
    overdue: number;
  }): void {
    const now = Date.now();
    this.connectionsByStatus.reset();
    for (const { integration, status, count } of state.byStatus) {
      this.connectionsByStatus.set({ integration, status }, count);
    }
    this.refreshTokenSoonestExpiry.reset();
    for (const { integration, expiresAt } of state.refreshTokenSoonestExpiry) {
      this.refreshTokenSoonestExpiry.set({ integration }, Math.max(0, (expiresAt.getTime() - now) / 1000));
    }
    this.overdueRefreshes.set(state.overdue);
  }

  observeRefresh(integration: string, reason: string, outcome: string, startedNs: bigint): void {
    const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
    this.refreshes.inc({ integration, reason, outcome });
    this.refreshSeconds.observe({ integration, outcome }, seconds);
    if (outcome !== 'success') this.providerErrors.inc({ class: outcome });
  }

  schedulerLagSeconds(seconds: number): void {
    this.schedulerLag.observe(Math.max(0, seconds));
  }

  tokenStored(expiresAtMs: number): void {
    const now = Date.now();
    if (this.soonestExpiryMs <= now || expiresAtMs < this.soonestExpiryMs) this.soonestExpiryMs = expiresAtMs;
    this.soonestExpiry.set(Math.max(0, (this.soonestExpiryMs - now) / 1000));
  }

  setSoonestExpiry(expiresAt: Date | null): void {
    this.soonestExpiryMs = expiresAt ? expiresAt.getTime() : Number.POSITIVE_INFINITY;
    this.soonestExpiry.set(expiresAt ? Math.max(0, (expiresAt.getTime() - Date.now()) / 1000) : 0);
  }

  // Hardening (security review): each names a condition an operator must act on.
  private readonly auditRowsDropped = new Counter({
    name: 'broker_audit_rows_dropped_total',
    help: 'Audit rows Postgres refused (not a connectivity problem) and that were dropped so the others are written',
    registers: [this.registry],
  });

  private readonly unsavedRotatedTokens = new Counter({
    name: 'broker_rotated_refresh_token_write_failures_total',
    help: 'Provider answers with a rotated refresh token whose write to Postgres failed',
    registers: [this.registry],
  });

  private readonly unknownRefreshOutcomes = new Counter({
    name: 'broker_refresh_outcome_unknown_total',
    help: 'Refreshes whose outcome was unknown (answer lost after the request left) at a provider that revokes on reuse: the connection needs re-authorization',
    registers: [this.registry],
  });

  private readonly grantsWithoutRefreshToken = new Counter({
    name: 'broker_authorizations_without_refresh_token_total',
    help: 'Authorization-code grants of a provider that issues refresh tokens that came back without one',
    labelNames: ['provider'] as const,
    registers: [this.registry],
  });

  /** `provider` is a catalogue id (a bounded set), never a connection key. */
  grantWithoutRefreshToken(provider: string): void {
    this.grantsWithoutRefreshToken.inc({ provider });
  }

  auditRowDropped(count = 1): void {
    this.auditRowsDropped.inc(count);
  }

  rotatedRefreshTokenWriteFailed(): void {
    this.unsavedRotatedTokens.inc();
  }

  refreshOutcomeUnknown(): void {
    this.unknownRefreshOutcomes.inc();
  }
}
