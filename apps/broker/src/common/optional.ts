import { ValidateIf } from 'class-validator';

/**
 * Like `@IsOptional()`, but only an absent field is skipped: an explicit `null` is validated (and
 * refused) like any other value, so `{ "clientSecret": null }` is a 400, not a null stored.
 */
export function Optional(): PropertyDecorator {
  return ValidateIf((_object, value) => value !== undefined);
}
