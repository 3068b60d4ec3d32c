import { Injectable } from '@nestjs/common';
import { context, propagation } from '@opentelemetry/api';
import { EventEmitter } from 'node:events';
import type { ConnectionStatus } from '../model/connection-status';
import { tracingEnabled } from '../tracing/spans';

/** A connection's next proactive refresh moved (a token was written, or a connection created). */
export interface RefreshPlanned {
  connectionId: string;
  tokenVersion: number;
  runAt: Date;
  /** W3C trace context of the request or job that planned it, so the refresh can link back. */
  trace?: Record<string, string>;
}

/** A connection's status moved (a refresh recovered it, or failed it). */
export interface StatusChange {
  connection: string;
  integration: string;
  from: ConnectionStatus;
  to: ConnectionStatus;
  lastError: string | null;
}

/**
 * What the token room announces to whoever cares, within this process: the scheduler keeps the
 * near schedule from `refreshPlanned`, the webhooks turn `statusChanged` into events. The token
 * room knows neither (arrows point down). Listeners run synchronously and must not throw.
 */
@Injectable()
export class TokenEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  onRefreshPlanned(listener: (plans: RefreshPlanned[]) => void): void {
    this.emitter.on('refreshPlanned', listener);
  }

  onStatusChanged(listener: (change: StatusChange) => void): void {
    this.emitter.on('statusChanged', listener);
  }

  refreshPlanned(plans: RefreshPlanned[]): void {
    if (plans.length === 0) return;
    const trace = currentTraceContext();
    this.emitter.emit(
      'refreshPlanned',
      trace ? plans.map((plan) => ({ ...plan, trace: plan.trace ?? trace })) : plans,
    );
  }

  statusChanged(change: StatusChange): void {
    this.emitter.emit('statusChanged', change);
  }
}

/** The active trace context as W3C headers, or nothing when tracing is off or no span is active. */
export function currentTraceContext(): Record<string, string> | undefined {
  if (!tracingEnabled()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ? carrier : undefined;
}
