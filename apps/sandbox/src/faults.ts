import type { FastifyReply } from 'fastify';
import type { FaultMode, SandboxSettings } from './settings';

/** Seconds a client is asked to wait after a 429 (`rateLimited`) or a 503 (`unavailable`). */
export const RATE_LIMITED_RETRY_AFTER_SECONDS = 2;
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 1;

/**
 * Returns the fault this token request must suffer, if any. A fault limited to the next N requests counts
 * down here and switches itself off after the last one.
 */
export function takeFault(holder: { settings: SandboxSettings }, provider: string): FaultMode {
  const { fault, faultProvider, faultCount } = holder.settings;
  if (fault === 'none' || (faultProvider !== null && faultProvider !== provider)) return 'none';
  if (faultCount !== null) {
    holder.settings =
      faultCount > 1
        ? { ...holder.settings, faultCount: faultCount - 1 }
        : { ...holder.settings, fault: 'none', faultProvider: null, faultCount: null };
  }
  return fault;
}

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

/** The faults that process the grant as usual (rotating the refresh token) and then spoil one field of the answer. */
export const ROTATED_INVALID_FAULTS = {
  rotatedZeroLifetime: { expires_in: 0 },
  rotatedUnboundedLifetime: { expires_in: '1e999' },
  rotatedScopeArray: { scope: ['Standard', 'OrgAdmin'] },
  rotatedNotBearer: { token_type: 'mac' },
} as const;
export type RotatedInvalidFault = keyof typeof ROTATED_INVALID_FAULTS;

export function isRotatedInvalidFault(fault: FaultMode): fault is RotatedInvalidFault {
  return Object.hasOwn(ROTATED_INVALID_FAULTS, fault);
}

/** The processed grant's answer with the fault's field spoiled, as a provider with a bug would send it. */
export function withInvalidField(
  fault: RotatedInvalidFault,
  body: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  return { ...body, ...ROTATED_INVALID_FAULTS[fault] };
}

/** Answers a token request the way a broken upstream would; `hang` is handled by {@link hang}. */
export function sendFault(
  fault: Exclude<FaultMode, 'none' | 'hang' | 'absurdLifetime' | RotatedInvalidFault>,
  reply: FastifyReply,
): FastifyReply {
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
