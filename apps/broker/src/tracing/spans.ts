import {
  AttributeValue,
  Attributes,
  Context,
  context,
  Link,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { BrokerError } from '../common/broker-error';
import { tracingState } from './tracing-state';

/**
 * The broker's own spans, written against `@opentelemetry/api` only. With tracing off no SDK is
 * loaded, and these helpers do not even ask the API's no-op tracer: they run the work as it is.
 *
 * Attributes carry names, keys, ids, kinds and outcomes only. Never a token, code, secret, API
 * key, header or error message (provider messages may quote what was sent).
 */
export const tracer = trace.getTracer('token-broker');

/** What `inSpan` hands its work when tracing is off: every call on it does nothing. */
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function tracingEnabled(): boolean {
  return tracingState.enabled;
}

/** Attribute names of the broker's spans (the README lists them). */
export const ATTR = {
  connection: 'broker.connection',
  connectionId: 'broker.connection.id',
  integration: 'broker.integration',
  client: 'broker.client',
  tokenOutcome: 'broker.token.outcome',
  refreshReason: 'broker.refresh.reason',
  refreshResult: 'broker.refresh.result',
  leaseAcquired: 'broker.lease.acquired',
  providerKind: 'broker.provider.kind',
  providerGrant: 'broker.provider.grant',
  providerOutcome: 'broker.provider.outcome',
  writeResult: 'broker.write.result',
  jobName: 'broker.job.name',
  jobId: 'broker.job.id',
  jobAttempt: 'broker.job.attempt',
  jobResult: 'broker.job.result',
  schedulerLag: 'broker.scheduler.lag_seconds',
  errorType: 'error.type',
  httpRoute: 'http.route',
  httpMethod: 'http.request.method',
  httpStatus: 'http.response.status_code',
} as const;

const headerGetter = {
  keys: (carrier: Record<string, unknown>) => Object.keys(carrier),
  get: (carrier: Record<string, unknown>, key: string) => {
    const value = carrier[key];
    return typeof value === 'string' || Array.isArray(value) ? (value as string | string[]) : undefined;
  },
};

/** The context an incoming request's `traceparent` (and `tracestate`) names, or the root. */
export function incomingContext(headers: Record<string, unknown>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** A short, fixed code for an error: the broker's or provider's code, never its message. */
export function errorType(error: unknown): string {
  if (error instanceof BrokerError) return error.code;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[a-z_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.name : 'unknown';
}

/** Marks the span failed with the error's code (never its message). */
export function markFailed(span: Span, error: unknown): void {
  const type = errorType(error);
  span.setAttribute(ATTR.errorType, type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Runs `work` in a new active span that ends when it settles; a thrown error marks it failed.
 * `parent` defaults to the active context.
 */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  options: { parent?: Context; kind?: SpanKind; links?: Link[] } = {},
): Promise<T> {
  if (!tracingState.enabled) return work(NOT_RECORDING);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes, links: options.links },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (error) {
        markFailed(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** A link to the span that W3C trace headers (as a job carries them) name; none without tracing. */
export function linkTo(headers: Record<string, string> | undefined): Link[] | undefined {
  if (!tracingState.enabled || !headers) return undefined;
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers));
  return spanContext && trace.isSpanContextValid(spanContext) ? [{ context: spanContext }] : undefined;
}

/** Sets an attribute on the span of the current context (a no-op without one). */
export function setActiveAttribute(name: string, value: AttributeValue): void {
  if (tracingState.enabled) trace.getActiveSpan()?.setAttribute(name, value);
}

export { ROOT_CONTEXT, SpanKind };
