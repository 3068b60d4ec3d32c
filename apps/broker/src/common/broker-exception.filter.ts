import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { BrokerError, CODE_OF_STATUS } from './broker-error';

/**
 * The one place errors become HTTP: `{ statusCode, error, message }`. Domain errors keep their
 * code; framework errors (bad JSON, wrong content type, unknown route) keep their 4xx; anything
 * else is a 500 that shows only an error id, with the details in the log under that id.
 */
@Catch()
export class BrokerExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    sendError(host.switchToHttp().getResponse<FastifyReply>(), exception, this.logger);
  }
}

/**
 * Answers with the error body; also for hooks that answer before Nest sees the request (the admin
 * credential check). Returns the status sent.
 */
export function sendError(reply: FastifyReply, exception: unknown, logger: Logger): number {
  const { status, code, message, headers } = describeError(exception, logger);
  // Error bodies are JSON on every route, the token path included (which has no helmet hook).
  reply.header('x-content-type-options', 'nosniff');
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  void reply.status(status).send({ statusCode: status, error: code, message });
  return status;
}

function describeError(
  exception: unknown,
  logger: Logger,
): {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
} {
  if (exception instanceof BrokerError) {
    return {
      status: exception.status,
      code: exception.code,
      message: exception.message,
      headers: exception.headers,
    };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      status: 503,
      code: 'service_unavailable',
      message: 'the database is unreachable; try again shortly',
      headers: { 'retry-after': '1' },
    };
  }
  const status = httpStatusOf(exception);
  if (status !== undefined && status !== 500) {
    return {
      status,
      code: CODE_OF_STATUS[status] ?? (status >= 500 ? 'service_unavailable' : 'bad_request'),
      message: clientMessage(exception),
      headers: {},
    };
  }
  const errorId = randomUUID();
  logger.error({ errorId, err: exception }, 'unhandled error');
  return {
    status: 500,
    code: 'internal_error',
    message: `internal error; quote error id ${errorId} to the operator`,
    headers: {},
  };
}

const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P03',
  '08006',
  '08001',
]);

/** Postgres unreachable or going away: a 503 the caller may retry, not a 500. */
function isDatabaseUnavailable(exception: unknown): boolean {
  const error = exception as { code?: string; driverError?: { code?: string }; message?: string } | undefined;
  const code = error?.driverError?.code ?? error?.code;
  if (code && UNREACHABLE_CODES.has(code)) return true;
  return /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/i.test(
    error?.message ?? '',
  );
}

function httpStatusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const statusCode = (exception as { statusCode?: unknown })?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 600 ? statusCode : undefined;
}

function clientMessage(exception: unknown): string {
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    if (typeof response === 'string') return response;
    const { message, error } = response as { message?: unknown; error?: unknown };
    if (Array.isArray(message)) return message.join('; ');
    // A failed health check names what is down.
    if (error && typeof error === 'object') return `not ready: ${Object.keys(error).join(', ')} down`;
    if (typeof message === 'string') return message;
    return exception.message;
  }
  // Fastify's own 4xx errors (malformed JSON, unsupported media type, body too large) say what
  // is wrong without echoing the body.
  return exception instanceof Error ? exception.message : 'bad request';
}
