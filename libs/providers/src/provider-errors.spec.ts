import { safeDescription } from './provider-errors';

describe('safeDescription (provider text kept in lastError and logs)', () => {
  it('keeps no control or format character: no ANSI escape, line break, bidi override or zero-width', () => {
    const hostile = 'Bad\u001b[31m red\r\nFAKE LOG LINE\u202eevil\u200b\u0000end';
    const clean = safeDescription(hostile)!;
    expect(clean).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(clean).toBe('Bad [31m red FAKE LOG LINE evil end');
  });

  it('cuts a long description at 200 characters', () => {
    expect(safeDescription('x'.repeat(500))).toBe(`${'x'.repeat(200)}…`);
  });
});
