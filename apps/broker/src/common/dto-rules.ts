import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';

/** Query strings carry text: a run of digits becomes a number for `@IsInt()` to check. */
export const ToInteger = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  );

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** OAuth scope tokens (RFC 6749 3.3): at most 50, none empty, no spaces or quotes. */
export const ScopeList = () =>
  applyDecorators(
    ApiPropertyOptional({
      type: 'array',
      maxItems: 50,
      items: { type: 'string', minLength: 1, maxLength: 200, pattern: SCOPE_TOKEN.source },
    }),
    IsArray(),
    ArrayMaxSize(50),
    IsString({ each: true }),
    IsNotEmpty({ each: true }),
    MaxLength(200, { each: true }),
    Matches(SCOPE_TOKEN, {
      each: true,
      message: 'each value in scopes must be a scope token without spaces or quotes',
    }),
  );
