import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { VALIDATION_OPTIONS, validationMessages } from '../common/validation';
import { CreateConnectionDto, ImportConnectionsDto } from './connection.dto';
import { checkImportItem, hasUsableAccessToken, importFieldProblems } from './import-rules';

const NOW = Date.parse('2026-12-01T15:00:00Z');
const VALID = { key: 'acme', integration: 'bloomerang', refreshToken: 'rt-0123456789abcdef' };

function problems(raw: Record<string, unknown>): string[] {
  const result = checkImportItem(raw, NOW);
  return result.ok ? [] : result.problems;
}

/** What `POST /admin/connections` answers: the pipe's field rules, then the rules between fields. */
function createProblems(raw: Record<string, unknown>): string[] {
  const dto = plainToInstance(CreateConnectionDto, raw);
  const fields = validationMessages(validateSync(dto, VALIDATION_OPTIONS));
  return fields.length > 0 ? fields : importFieldProblems(dto, NOW);
}

describe('import rules', () => {
  it('accepts a refresh token alone, and with every optional field', () => {
    expect(checkImportItem(VALID, NOW)).toEqual({ ok: true, dto: expect.objectContaining(VALID) });
    expect(
      problems({
        ...VALID,
        scopes: ['OrgAdmin'],
        accessToken: 'at-0123456789',
        expiresAt: '2026-12-01T16:00:00Z',
        scope: 'OrgAdmin',
        refreshTokenExpiresAt: '2027-03-01T16:00:00.123+01:00',
      }),
    ).toEqual([]);
  });

  it('requires a refresh token in a bulk item, but not in a plain create', () => {
    const { refreshToken: _omitted, ...withoutToken } = VALID;
    expect(problems(withoutToken)).toEqual([
      'refreshToken is required: an import brings an existing connection',
    ]);
    expect(createProblems(withoutToken)).toEqual([]);
  });

  it('refuses an access token without its expiry, and an expiry without its token', () => {
    expect(problems({ ...VALID, accessToken: 'at' })).toEqual(['expiresAt is required with accessToken']);
    expect(problems({ ...VALID, expiresAt: '2026-12-01T16:00:00Z' })).toEqual([
      'expiresAt is the expiry of accessToken: send both or neither',
    ]);
  });

  it.each([
    ['2026-12-01', 'a bare date'],
    ['2026-12-01T16:00:00', 'no time zone'],
    ['2026-02-30T16:00:00Z', 'no such day'],
    ['1 December 2026', 'not ISO 8601'],
    ['2026-12-01T25:00:00Z', 'no such hour'],
  ])('refuses expiresAt %s (%s), naming the field', (expiresAt) => {
    const found = problems({ ...VALID, accessToken: 'at', expiresAt });
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((problem) => problem.startsWith('expiresAt '))).toBe(true);
  });

  it('refuses a number or null where a date or token belongs, naming each field', () => {
    const found = problems({ ...VALID, refreshToken: null, expiresAt: 1765000000, accessToken: 'at' });
    expect(found.some((problem) => problem.startsWith('refreshToken '))).toBe(true);
    expect(found.some((problem) => problem.startsWith('expiresAt '))).toBe(true);
  });

  it('refuses a refresh token that has lapsed', () => {
    expect(problems({ ...VALID, refreshTokenExpiresAt: '2026-11-30T00:00:00Z' })).toEqual([
      'refreshTokenExpiresAt is in the past: that refresh token has lapsed, authorize the account',
    ]);
  });

  it('refuses tokens with control characters or beyond their length, and never echoes them', () => {
    const secret = 'rt-secret\nvalue';
    const found = problems({
      ...VALID,
      refreshToken: secret,
      accessToken: 'x'.repeat(8193),
      expiresAt: '2026-12-01T16:00:00Z',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        'refreshToken must be visible ASCII characters (RFC 6749 VSCHAR)',
        expect.stringMatching(/^accessToken must be .*8192/),
      ]),
    );
    expect(found.join(' ')).not.toContain('rt-secret');
  });

  it('refuses token details on a plain create (no refresh token)', () => {
    expect(createProblems({ key: 'acme', integration: 'bloomerang', scope: 'OrgAdmin' })).toEqual([
      'scope is accepted only with refreshToken, to import an existing connection',
    ]);
  });

  it('refuses unknown fields and non-objects, echoing only a well-formed key', () => {
    expect(problems({ ...VALID, refresh_token: 'x' })).toEqual(['refresh_token is not a known field']);
    expect(checkImportItem('acme', NOW)).toEqual({
      ok: false,
      key: null,
      problems: ['the item must be a JSON object'],
    });
    expect(checkImportItem(null, NOW)).toMatchObject({ ok: false, key: null });
    expect(checkImportItem({ ...VALID, key: 'Not A Key' }, NOW)).toMatchObject({ ok: false, key: null });
    expect(checkImportItem({ ...VALID, integration: 7 }, NOW)).toMatchObject({ ok: false, key: 'acme' });
  });

  it('serves an imported access token only with more than a minute left', () => {
    const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
    expect(hasUsableAccessToken({ ...VALID, accessToken: 'at', expiresAt: at(3600) }, NOW)).toBe(true);
    expect(hasUsableAccessToken({ ...VALID, accessToken: 'at', expiresAt: at(30) }, NOW)).toBe(false);
    expect(hasUsableAccessToken({ ...VALID, accessToken: 'at', expiresAt: at(-30) }, NOW)).toBe(false);
    expect(hasUsableAccessToken(VALID, NOW)).toBe(false);
  });

  it('takes 1 to 1,000 items in a bulk body, leaving each item to its own check', () => {
    const bulk = (connections: unknown) =>
      validationMessages(
        validateSync(plainToInstance(ImportConnectionsDto, { connections }), VALIDATION_OPTIONS),
      );
    expect(bulk([VALID, 'not an object', null])).toEqual([]);
    expect(bulk(Array(1000).fill(VALID))).toEqual([]);
    expect(bulk([])).toEqual(['connections must contain at least 1 elements']);
    expect(bulk(Array(1001).fill(VALID))).toEqual(['connections must contain no more than 1000 elements']);
    expect(bulk({ key: 'acme' })).toEqual(expect.arrayContaining(['connections must be an array']));
  });
});
