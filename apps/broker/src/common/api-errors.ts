import { Type } from '@nestjs/common';
import { PATH_METADATA } from '@nestjs/common/constants.js';
import { ApiExtraModels, DECORATORS, getSchemaPath } from '@nestjs/swagger';
import { BrokerErrorCode, CODE_OF_STATUS, ERROR_STATUS } from './broker-error';
import { ErrorBody } from './error-body.dto';

const EXAMPLE_MESSAGE: Record<BrokerErrorCode, string> = {
  bad_request: 'key must match [a-z0-9][a-z0-9_-]{0,62}; scopes must be an array',
  invalid_state: 'this authorization was already used; start a new one',
  unauthorized: 'missing credentials: send Authorization: Bearer <token>',
  forbidden: 'this API key may not read connection "bloomerang-acme"',
  not_found: 'connection "bloomerang-acme" does not exist',
  method_not_allowed: 'method not allowed',
  conflict: 'connection "bloomerang-acme" already exists',
  needs_reauthorization: 'connection "bloomerang-acme" needs re-authorization: the refresh token was revoked',
  unsupported_media_type: "Unsupported Media Type: 'text/plain'",
  payload_too_large: 'Request body is too large',
  too_many_requests: 'too many failed authentications from this address; try again later',
  provider_unavailable: 'the provider did not refresh connection "bloom-credit": token endpoint timed out',
  service_unavailable: 'the database is unreachable; try again shortly',
  internal_error: 'internal error; quote error id 0b6f2c1e-5d0a-4a8e-9a57-1f0f7c3b2d11 to the operator',
};

const DESCRIPTION: Record<BrokerErrorCode, string> = {
  bad_request: 'the request is malformed; the message names every wrong field',
  invalid_state: 'unknown, expired or reused OAuth state',
  unauthorized: 'no or unknown credential',
  forbidden: 'the credential may not do this',
  not_found: 'no such object',
  method_not_allowed: 'method not allowed',
  conflict: 'the object exists already, or is still in use',
  needs_reauthorization: "the account's user must authorize again",
  unsupported_media_type: 'the body is not application/json',
  payload_too_large: 'the body is larger than the route takes (64 KiB; 8 MiB for the bulk import)',
  too_many_requests: 'too many failed authentications from this address (see Retry-After)',
  provider_unavailable: 'the upstream provider did not answer or refused for now',
  service_unavailable: 'Postgres or Redis is unreachable (see Retry-After)',
  internal_error: 'an unexpected error; the message holds only an id to quote',
};

const ERRORS_METADATA = 'broker:api-errors';

/**
 * Documents a route's (or every route of a controller's) error answers, all with the one
 * `ErrorBody` schema narrowed to the status and its codes. A status number stands for that
 * status's default code (`409` is `conflict`); a code stands for itself (`'needs_reauthorization'`
 * is a 409 too). Controller and route lists add up, codes of one status included:
 * `@ApiErrors(401, 503)` on a controller and `@ApiErrors(404, 'provider_unavailable')` on a route
 * document 401, 404 and a 503 of `service_unavailable` or `provider_unavailable`.
 */
export function ApiErrors(...errors: Array<number | BrokerErrorCode>): MethodDecorator & ClassDecorator {
  const codes = errors.map((error) => {
    const code = typeof error === 'number' ? CODE_OF_STATUS[error] : error;
    if (!code) throw new Error(`ApiErrors: no error code for status ${error}`);
    return code;
  });
  return ((target: object, key?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (descriptor) {
      ApiExtraModels(ErrorBody)(target, key!, descriptor);
      document(descriptor.value as object, codes);
      return descriptor;
    }
    ApiExtraModels(ErrorBody)(target as Type);
    const prototype = (target as Type).prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (
        name !== 'constructor' &&
        typeof handler === 'function' &&
        Reflect.hasMetadata(PATH_METADATA, handler)
      ) {
        document(handler, codes);
      }
    }
    return target;
  }) as MethodDecorator & ClassDecorator;
}

/** Adds the codes to the handler's, and rewrites the handler's error responses from the union. */
function document(handler: object, added: BrokerErrorCode[]): void {
  const codes = [
    ...new Set([...((Reflect.getMetadata(ERRORS_METADATA, handler) as BrokerErrorCode[]) ?? []), ...added]),
  ];
  Reflect.defineMetadata(ERRORS_METADATA, codes, handler);
  const responses = { ...((Reflect.getMetadata(DECORATORS.API_RESPONSE, handler) as object) ?? {}) };
  for (const status of new Set(codes.map((code) => ERROR_STATUS[code]))) {
    const ofStatus = codes.filter((code) => ERROR_STATUS[code] === status);
    Object.assign(responses, { [status]: errorResponse(status, ofStatus) });
  }
  Reflect.defineMetadata(DECORATORS.API_RESPONSE, responses, handler);
}

function errorResponse(status: number, codes: BrokerErrorCode[]) {
  return {
    description: codes.map((code) => `\`${code}\`: ${DESCRIPTION[code]}`).join('; '),
    schema: {
      allOf: [
        { $ref: getSchemaPath(ErrorBody) },
        {
          properties: {
            statusCode: { type: 'integer', enum: [status] },
            error: { type: 'string', enum: codes },
          },
        },
      ],
    },
    examples: Object.fromEntries(
      codes.map((code) => [
        code,
        { summary: code, value: { statusCode: status, error: code, message: EXAMPLE_MESSAGE[code] } },
      ]),
    ),
  };
}
