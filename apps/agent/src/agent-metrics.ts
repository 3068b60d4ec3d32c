import Counter from 'prom-client/lib/counter.js';
import Gauge from 'prom-client/lib/gauge.js';
import Histogram from 'prom-client/lib/histogram.js';
import Registry from 'prom-client/lib/registry.js';

export type BrokerCallPurpose = 'read' | 'read_ahead' | 'caller';
export type BrokerCallOutcome = 'token' | 'denied' | 'credential_refused' | 'unavailable' | 'accepted';
export type BrokerErrorKind =
  'refused' | 'timeout' | 'network' | 'server_error' | 'throttled' | 'malformed' | 'credential_refused';

/**
 * The agent's Prometheus metrics, in its own registry. Labels take a few fixed values only:
 * never a connection key, so a pod reading many connections cannot grow the series.
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly hits = new Counter({
    name: 'agent_cache_hits_total',
    help: 'Token reads answered from memory',
    registers: [this.registry],
  });
  private readonly misses = new Counter({
    name: 'agent_cache_misses_total',
    help: 'Token reads that waited on the broker',
    registers: [this.registry],
  });
  private readonly negativeHits = new Counter({
    name: 'agent_negative_cache_hits_total',
    help: "Token reads answered with a held 403, 404 or 409 of the broker's, without asking it",
    registers: [this.registry],
  });
  private readonly evictions = new Counter({
    name: 'agent_cache_evictions_total',
    help: 'Connections forgotten because the cache was full (AGENT_CACHE_MAX_CONNECTIONS)',
    registers: [this.registry],
  });
  private readonly readAheads = new Counter({
    name: 'agent_read_ahead_total',
    help: 'Tokens fetched again before readers needed them, by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  private readonly brokerCalls = new Histogram({
    name: 'agent_broker_request_duration_seconds',
    help: 'Calls to the central broker, by purpose and outcome',
    labelNames: ['purpose', 'outcome'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly brokerErrors = new Counter({
    name: 'agent_broker_errors_total',
    help: 'Failed calls to the central broker, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly ready = new Gauge({
    name: 'agent_ready',
    help: "1 while the broker accepts the agent's credential",
    registers: [this.registry],
  });
  private readonly cached = new Gauge({
    name: 'agent_cached_connections',
    help: 'Connections the agent currently remembers',
    registers: [this.registry],
  });

  hit(): void {
    this.hits.inc();
  }

  miss(): void {
    this.misses.inc();
  }

  negativeHit(): void {
    this.negativeHits.inc();
  }

  evicted(): void {
    this.evictions.inc();
  }

  readAhead(result: 'ok' | 'failed'): void {
    this.readAheads.inc({ result });
  }

  brokerCall(purpose: BrokerCallPurpose, outcome: BrokerCallOutcome, seconds: number): void {
    this.brokerCalls.observe({ purpose, outcome }, seconds);
  }

  brokerError(kind: BrokerErrorKind): void {
    this.brokerErrors.inc({ kind });
  }

  setReady(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  setCachedConnections(count: number): void {
    this.cached.set(count);
  }
}
