import { HttpStatus } from '@nestjs/common';

/**
 * The broker's error codes. Each maps to one HTTP status in `BrokerExceptionFilter`, and the code
 * is what callers see as `error` in `{ statusCode, error, message }`.
 */
export const ERROR_STATUS = {
  bad_request: HttpStatus.BAD_REQUEST,
  invalid_state: HttpStatus.BAD_REQUEST,
  unauthorized: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  not_found: HttpStatus.NOT_FOUND,
  method_not_allowed: HttpStatus.METHOD_NOT_ALLOWED,
  conflict: HttpStatus.CONFLICT,
  needs_reauthorization: HttpStatus.CONFLICT,
  unsupported_media_type: HttpStatus.UNSUPPORTED_MEDIA_TYPE,
  payload_too_large: HttpStatus.PAYLOAD_TOO_LARGE,
  too_many_requests: HttpStatus.TOO_MANY_REQUESTS,
  provider_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  service_unavailable: HttpStatus.SERVICE_UNAVAILABLE,
  internal_error: HttpStatus.INTERNAL_SERVER_ERROR,
} as const;

export type BrokerErrorCode = keyof typeof ERROR_STATUS;

/**
 * The code a bare HTTP status stands for: what the exception filter gives the framework's own
 * errors (bad JSON, wrong content type, unknown route), and what `@ApiErrors(404)` documents.
 */
export const CODE_OF_STATUS: Readonly<Record<number, BrokerErrorCode>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  409: 'conflict',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  500: 'internal_error',
  503: 'service_unavailable',
};

/** Every code a caller may see as `error`, for the OpenAPI enum. */
export const ERROR_CODES = Object.keys(ERROR_STATUS) as BrokerErrorCode[];

export class BrokerError extends Error {
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'BrokerError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static notFound(what: string, key: string): BrokerError {
    return new BrokerError('not_found', `${what} "${key}" does not exist`);
  }

  static conflict(message: string): BrokerError {
    return new BrokerError('conflict', message);
  }

  static badRequest(message: string): BrokerError {
    return new BrokerError('bad_request', message);
  }
}

/** Postgres unique_violation, for turning a lost insert race into a 409 instead of a 500. */
export function isUniqueViolation(error: unknown): boolean {
  const driverError = (error as { driverError?: { code?: string }; code?: string }) ?? {};
  return (driverError.driverError?.code ?? driverError.code) === '23505';
}
