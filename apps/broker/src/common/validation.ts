import { ValidationError, ValidationPipe } from '@nestjs/common';
import { BrokerError } from './broker-error';

/** Each wrong field, named: `key must match …`, `scopes.0 must be …`, `x is not a known field`. */
export function validationMessages(errors: ValidationError[]): string[] {
  return flatten(errors);
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    if (error.constraints) {
      if (error.constraints.whitelistValidation) return [`${path} is not a known field`];
      return Object.values(error.constraints).map((text) =>
        text.startsWith(error.property) ? `${parent ? `${parent}.` : ''}${text}` : `${path} ${text}`,
      );
    }
    return flatten(error.children ?? [], path);
  });
}

/** The rules every admin body is checked with, for code that validates items itself. */
export const VALIDATION_OPTIONS = {
  whitelist: true,
  forbidNonWhitelisted: true,
  validationError: { target: false, value: false },
} as const;

/**
 * Refuses unknown fields and names every wrong one: `key must match …; scopes.0 must be one of …`.
 * Bound to the admin controllers, not globally: the token path parses its one query parameter
 * itself and does not pay for a pipe per parameter.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    ...VALIDATION_OPTIONS,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => BrokerError.badRequest(flatten(errors).join('; ') || 'invalid request'),
  });
}
