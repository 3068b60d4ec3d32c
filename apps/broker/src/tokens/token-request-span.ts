import { BrokerError } from '../common/broker-error';
import type { CallerRequest } from '../clients/caller.guard';
import { ATTR, incomingContext, inSpan, SpanKind } from '../tracing/spans';

export const TOKEN_REQUEST_SPAN = 'GET /tokens/:connection';

/**
 * The span of one token request, continuing the caller's `traceparent`. The outcome (cache hit,
 * stored, refreshed, or the refusal) is set by TokensService on this span. Called only with
 * tracing on: the controller answers without it otherwise, with no span work at all.
 */
export function traceTokenRequest(
  request: CallerRequest,
  connection: string,
  answer: () => string | Promise<string>,
): Promise<string> {
  return inSpan(
    TOKEN_REQUEST_SPAN,
    {
      [ATTR.httpMethod]: 'GET',
      [ATTR.httpRoute]: '/tokens/:connection',
      [ATTR.connection]: connection,
      [ATTR.client]: request.caller?.name ?? '',
    },
    async (span) => {
      try {
        const token = await answer();
        span.setAttribute(ATTR.httpStatus, 200);
        return token;
      } catch (error) {
        span.setAttribute(ATTR.httpStatus, error instanceof BrokerError ? error.status : 500);
        throw error;
      }
    },
    { parent: incomingContext(request.headers), kind: SpanKind.SERVER },
  );
}
