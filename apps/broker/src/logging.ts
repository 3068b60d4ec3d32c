import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { Logger, Params, PinoLogger } from 'nestjs-pino';
import type { BrokerEnvironment } from './config/environment';

const QUIET_PATHS = /^\/(tokens\/|health\/|metrics)/;

/** A URL with query values dropped: the callback's `code` and `state` must never reach a log. */
export function redactUrl(url: string | undefined): string {
  if (!url) return '';
  const [path, query] = url.split('?', 2);
  if (!query) return path;
  const names = query.split('&').map((pair) => decodeURIComponentSafe(pair.split('=')[0]));
  return `${path}?${names.map((name) => `${name}=[redacted]`).join('&')}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * JSON logs. Authorization headers, cookies, query values and every field that could carry a
 * secret or token are redacted. No HTTP middleware: nestjs-pino's middleware would put Nest's
 * middleware engine on every request, the token path included, so request lines come from a
 * Fastify hook instead (`logRequests`).
 */
export function loggerParams(env: BrokerEnvironment): Params {
  return {
    pinoHttp: {
      level: env.LOG_LEVEL,
      serializers: {
        req: (req: { id?: unknown; method?: string; url?: string }) => ({
          id: req.id,
          method: req.method,
          url: redactUrl(req.url),
        }),
        res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          '*.clientSecret',
          '*.client_secret',
          '*.accessToken',
          '*.access_token',
          '*.refreshToken',
          '*.refresh_token',
          '*.apiKey',
          '*.code',
          '*.state',
          '*.password',
          'err.config',
          'err.request',
          'err.response',
        ],
        censor: '[redacted]',
      },
    },
  };
}

/** The application's logger (nestjs-pino's, for Nest and every `new Logger(name)`), over one pino instance. */
export function createAppLogger(env: BrokerEnvironment): Logger {
  const params = loggerParams(env);
  return new Logger(new PinoLogger(params), params);
}

/**
 * One line per finished request, from an `onResponse` hook attached to each route when it is
 * registered (and to the not-found handler, see `logUnmatchedRequest`). Token, health and metrics
 * routes get no hook at all: they are not logged one by one (the audit log and the metrics count
 * them), so the hot path does not even pay for the check.
 */
export function logRequests(fastify: FastifyInstance): void {
  fastify.addHook('onRoute', (route) => {
    if (QUIET_PATHS.test(route.url)) return;
    const existing = route.onResponse ?? [];
    route.onResponse = [...(Array.isArray(existing) ? existing : [existing]), logRequest];
  });
}

/** The request line for a request no route matched (404), quiet paths excepted. */
export function logUnmatchedRequest(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
): void {
  if (QUIET_PATHS.test(request.url)) done();
  else logRequest(request, reply, done);
}

function logRequest(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const fields = {
    req: { id: request.id, method: request.method, url: request.url },
    res: reply.raw,
    responseTime: Math.round(reply.elapsedTime),
  };
  if (reply.statusCode >= 500) PinoLogger.root.error(fields, 'request errored');
  else PinoLogger.root.info(fields, 'request completed');
  done();
}
