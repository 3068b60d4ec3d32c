import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { RESOURCE_KEY_PATTERN } from '../common/keys';
import { VALIDATION_OPTIONS, validationMessages } from '../common/validation';
import { CreateConnectionDto, ImportConnectionDto } from './connection.dto';

/** An imported access token with less than this left is refreshed at import rather than served. */
export const IMPORTED_ACCESS_TOKEN_MIN_VALIDITY_MS = 60_000;

const TOKEN_DETAILS = ['accessToken', 'expiresAt', 'scope', 'refreshTokenExpiresAt'] as const;

/**
 * The rules between the import fields, which field decorators cannot express. Each problem names
 * its field; none repeats a value.
 */
export function importFieldProblems(dto: CreateConnectionDto, nowMs: number): string[] {
  const problems: string[] = [];
  if (dto.refreshToken === undefined) {
    for (const field of TOKEN_DETAILS) {
      if (dto[field] !== undefined) {
        problems.push(`${field} is accepted only with refreshToken, to import an existing connection`);
      }
    }
    return problems;
  }
  if (dto.accessToken !== undefined && dto.expiresAt === undefined) {
    problems.push('expiresAt is required with accessToken');
  }
  if (dto.expiresAt !== undefined && dto.accessToken === undefined) {
    problems.push('expiresAt is the expiry of accessToken: send both or neither');
  }
  if (dto.refreshTokenExpiresAt !== undefined && Date.parse(dto.refreshTokenExpiresAt) <= nowMs) {
    problems.push(
      'refreshTokenExpiresAt is in the past: that refresh token has lapsed, authorize the account',
    );
  }
  return problems;
}

export type CheckedImportItem =
  { ok: true; dto: ImportConnectionDto } | { ok: false; key: string | null; problems: string[] };

/** Checks one bulk-import item with the same rules as the admin API's validation pipe. */
export function checkImportItem(raw: unknown, nowMs: number): CheckedImportItem {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, key: null, problems: ['the item must be a JSON object'] };
  }
  // Only a well-formed key is echoed: the results must never carry back whatever an item held.
  const rawKey = (raw as { key?: unknown }).key;
  const key = typeof rawKey === 'string' && RESOURCE_KEY_PATTERN.test(rawKey) ? rawKey : null;
  const dto = plainToInstance(ImportConnectionDto, raw, { enableImplicitConversion: false });
  const problems = validationMessages(validateSync(dto, VALIDATION_OPTIONS));
  if (dto.refreshToken === undefined) {
    problems.unshift('refreshToken is required: an import brings an existing connection');
  }
  if (problems.length === 0) problems.push(...importFieldProblems(dto, nowMs));
  return problems.length === 0 ? { ok: true, dto } : { ok: false, key, problems };
}

/** Whether the imported access token is good enough to serve, so no refresh is needed at import. */
export function hasUsableAccessToken(dto: CreateConnectionDto, nowMs: number): boolean {
  return (
    dto.accessToken !== undefined &&
    dto.expiresAt !== undefined &&
    Date.parse(dto.expiresAt) - nowMs > IMPORTED_ACCESS_TOKEN_MIN_VALIDITY_MS
  );
}
