import type { FastifyReply } from 'fastify';
import type { FastifyRequest } from 'fastify';
import type { FaultMode, FaultRule, SandboxSettings } from './settings';
import { setTimeout as sleep } from 'node:timers/promises';

/** Seconds a client is asked to wait after a 429 (`rateLimited`) or a 503 (`unavailable`). */
export const RATE_LIMITED_RETRY_AFTER_SECONDS = 2;
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * Returns the fault this token request must suffer, if any: the `fault` setting first, then the first
 * matching rule of `faultRules`. A fault limited to the next N requests counts down here and switches
 * itself off after the last one.
 */
export function takeFault(
  holder: { settings: SandboxSettings },
  provider: string,
  account?: string,
): FaultMode {
  const { fault, faultProvider, faultCount, faultRules } = holder.settings;
  if (fault !== 'none' && (faultProvider === null || faultProvider === provider)) {
    if (faultCount !== null) {
      holder.settings =
        faultCount > 1
          ? { ...holder.settings, faultCount: faultCount - 1 }
          : { ...holder.settings, fault: 'none', faultProvider: null, faultCount: null };
    }
    return fault;
  }
  const index = faultRules.findIndex(
    (rule) =>
      (rule.provider == null || rule.provider === provider) &&
      (rule.account == null || rule.account === account),
  );
  if (index < 0) return 'none';
  const rule = faultRules[index];
  if (rule.count != null) {
    const rules: FaultRule[] = [...faultRules];
    if (rule.count > 1) rules[index] = { ...rule, count: rule.count - 1 };
    else rules.splice(index, 1);
    holder.settings = { ...holder.settings, faultRules: rules };
  }
  return rule.fault;
}

/**
 * Faults whose grant is processed as usual first (a code or refresh token is consumed and a new
 * refresh token issued), so the client loses what the provider did unless it keeps the answer:
 * - `lostAnswer`: the connection is reset instead of answered;
 * - `slowAnswer`: answered only once the client has given up (or after `slowAnswerMs`);
 * - `errorAfterProcessing`: a 500 instead of the tokens;
 * - the rest: a 200 with the new tokens and one field no client may accept (or a lifetime it must clamp).
 */
export const PROCESSED_FAULTS = [
  'absurdLifetime',
  'lostAnswer',
  'slowAnswer',
  'errorAfterProcessing',
  'zeroExpiresIn',
  'overflowingExpiresIn',
  'arrayScope',
  'nonBearerTokenType',
] as const satisfies readonly FaultMode[];
export type ProcessedFault = (typeof PROCESSED_FAULTS)[number];

export const isProcessedFault = (fault: FaultMode): fault is ProcessedFault =>
  (PROCESSED_FAULTS as readonly FaultMode[]).includes(fault);

/** Faults answered without processing the grant at all: nothing is consumed. */
export type UnprocessedFault = Exclude<FaultMode, 'none' | 'hang' | ProcessedFault>;

/** Seconds `absurdLifetime` claims a token lasts: past what a JavaScript Date can hold once added to now. */
export const ABSURD_LIFETIME_SECONDS = 1e15;

/**
 * `absurdLifetime`: the grant is processed as usual (a refresh token is consumed and rotated), but
 * the answer claims lifetimes no date can hold, as a provider with a unit bug would.
 */
export function withAbsurdLifetime<T extends Readonly<Record<string, unknown>>>(body: T): T {
  return {
    ...body,
    expires_in: ABSURD_LIFETIME_SECONDS,
    ...('refresh_token' in body ? { refresh_token_expires_in: ABSURD_LIFETIME_SECONDS } : {}),
  };
}

/** `overflowingExpiresIn`: a number no double holds once parsed (JSON allows it, as a string here). */
export const OVERFLOWING_EXPIRES_IN = '1e999';
/** `nonBearerTokenType`: a token type a client that sends `Authorization: Bearer` cannot use. */
export const NON_BEARER_TOKEN_TYPE = 'mac';

/** The answer body a processed fault sends (the tokens are the real ones, already issued). */
export function reshapeAnswer<T extends Readonly<Record<string, unknown>>>(
  fault: ProcessedFault | 'none',
  body: T,
): Record<string, unknown> {
  switch (fault) {
    case 'absurdLifetime':
      return withAbsurdLifetime(body);
    case 'zeroExpiresIn':
      return { ...body, expires_in: 0 };
    case 'overflowingExpiresIn':
      return { ...body, expires_in: OVERFLOWING_EXPIRES_IN };
    case 'arrayScope':
      return {
        ...body,
        scope: String(body.scope ?? '')
          .split(/[ ,]/)
          .filter(Boolean),
      };
    case 'nonBearerTokenType':
      return { ...body, token_type: NON_BEARER_TOKEN_TYPE };
    default:
      return body;
  }
}

/**
 * Sends the answer of a processed grant (`none` included) the way the fault says; `send` writes a
 * body in the provider's own shape.
 */
export async function deliverProcessed(
  fault: ProcessedFault | 'none',
  request: FastifyRequest,
  reply: FastifyReply,
  body: Readonly<Record<string, unknown>>,
  send: (body: Record<string, unknown>) => FastifyReply,
  ctx: { readonly settings: SandboxSettings; readonly shutdown: AbortSignal },
): Promise<FastifyReply | void> {
  switch (fault) {
    case 'lostAnswer':
      return resetConnection(request, reply);
    case 'slowAnswer':
      await untilClientGone(request, ctx.settings.slowAnswerMs, ctx.shutdown);
      if (request.raw.socket?.destroyed || ctx.shutdown.aborted) {
        reply.hijack();
        return;
      }
      return send({ ...body });
    case 'errorAfterProcessing':
      return reply
        .status(500)
        .send({ error: 'server_error', error_description: 'The server failed after processing.' });
    default:
      return send(reshapeAnswer(fault, body));
  }
}

/**
 * Closes the connection instead of answering: the client sees the connection end with no answer.
 * A plain destroy, not `resetAndDestroy()`: an RST on a socket its peer has already dropped (a killed
 * client) can leave a handle that keeps Node from exiting.
 */
export function resetConnection(request: FastifyRequest, reply: FastifyReply): void {
  reply.hijack();
  request.raw.socket.destroy();
}

/** Resolves once the client's connection has closed, the sandbox shuts down or `ms` have passed. */
async function untilClientGone(request: FastifyRequest, ms: number, shutdown: AbortSignal): Promise<void> {
  const socket = request.raw.socket;
  if (socket.destroyed) return;
  const gone = new AbortController();
  const onClose = () => gone.abort();
  socket.once('close', onClose);
  try {
    await sleep(ms, undefined, { signal: AbortSignal.any([shutdown, gone.signal]) });
  } catch (error) {
    if (!gone.signal.aborted && !shutdown.aborted) throw error;
  } finally {
    socket.off('close', onClose);
  }
}

/** Answers a token request the way a broken upstream would, before processing it; `hang` is {@link hang}. */
export function sendFault(fault: UnprocessedFault, reply: FastifyReply): FastifyReply {
  switch (fault) {
    case 'html500':
      return reply
        .status(500)
        .type('text/html; charset=utf-8')
        .send('<!doctype html><html><body><h1>500 Internal Server Error</h1></body></html>');
    case 'invalidJson':
      return reply.status(200).type('application/json').send('{"access_token":"trunc');
    case 'rateLimited':
      return reply
        .status(429)
        .header('retry-after', String(RATE_LIMITED_RETRY_AFTER_SECONDS))
        .send({ error: 'rate_limited', error_description: 'Too many requests.' });
    case 'unavailable':
      return reply
        .status(503)
        .header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS))
        .send({ error: 'temporarily_unavailable', error_description: 'The service is unavailable.' });
  }
}

/**
 * Never answers: resolves once the client has gone away or the sandbox shuts down (whose forced close
 * then destroys the connection). The reply is hijacked so Fastify does not answer for us.
 */
export function hang(reply: FastifyReply, shutdown: AbortSignal): Promise<void> {
  reply.hijack();
  if (shutdown.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      reply.raw.off('close', done);
      shutdown.removeEventListener('abort', done);
      resolve();
    };
    reply.raw.once('close', done);
    shutdown.addEventListener('abort', done, { once: true });
  });
}
