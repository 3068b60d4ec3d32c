import { AnswerableToken, secondsLeft, TokenAnswer, tokenAnswerJson } from './token-api';

/** The answer as JSON.stringify writes it: what tokenAnswerJson must reproduce byte for byte. */
function stringified(token: AnswerableToken, now: number): string {
  const answer: TokenAnswer = {
    accessToken: token.accessToken,
    tokenType: token.tokenType,
    expiresAt: new Date(token.expiresAtMs).toISOString(),
    expiresIn: secondsLeft(token.expiresAtMs, now),
    scope: token.scope,
  };
  if (token.metadata) answer.metadata = token.metadata;
  return JSON.stringify(answer);
}

describe('tokenAnswerJson', () => {
  const now = Date.parse('2026-12-01T12:00:00.000Z');

  it.each<[string, AnswerableToken]>([
    [
      'a plain token',
      {
        accessToken: 'abc.def-ghi_jkl',
        tokenType: 'Bearer',
        expiresAtMs: now + 3_599_500,
        scope: 'read write',
      },
    ],
    ['no scope', { accessToken: 'a', tokenType: 'bearer', expiresAtMs: now + 60_000, scope: null }],
    [
      'characters JSON must escape',
      {
        accessToken: 'q"u\\o\te\n\u0001\u2028',
        tokenType: 'Be"arer',
        expiresAtMs: now + 1,
        scope: '"expiresIn":0,',
      },
    ],
    [
      'non-ASCII text',
      { accessToken: 'tök€n😀', tokenType: 'Bearer', expiresAtMs: now + 10_000, scope: 'données' },
    ],
    [
      "metadata with the provider's own names and nested values",
      {
        accessToken: 't',
        tokenType: 'Bearer',
        expiresAtMs: now + 7_200_000,
        scope: null,
        metadata: { instance_url: 'https://acme.my.salesforce.com', team: { id: 'T1', name: 'Ac"me' }, n: 1 },
      },
    ],
    [
      'empty metadata (the entry keeps some, none seen yet)',
      { accessToken: 't', tokenType: 'Bearer', expiresAtMs: now + 1_000, scope: 'a', metadata: {} },
    ],
    [
      'null metadata (left out)',
      { accessToken: 't', tokenType: 'Bearer', expiresAtMs: now, scope: 'a', metadata: null },
    ],
    [
      'an expired token (0 seconds left)',
      { accessToken: 'x', tokenType: 'Bearer', expiresAtMs: now - 5_000, scope: '' },
    ],
  ])('writes %s exactly as JSON.stringify does', (_name, token) => {
    expect(tokenAnswerJson(token, now)).toBe(stringified(token, now));
    expect(JSON.parse(tokenAnswerJson(token, now))).toEqual(JSON.parse(stringified(token, now)));
  });

  it('counts expiresIn at each answer while the rest of the text is kept per token', () => {
    const token: AnswerableToken = {
      accessToken: 't',
      tokenType: 'Bearer',
      expiresAtMs: now + 120_000,
      scope: null,
    };
    expect(JSON.parse(tokenAnswerJson(token, now)).expiresIn).toBe(120);
    expect(JSON.parse(tokenAnswerJson(token, now + 30_500)).expiresIn).toBe(89);
    expect(tokenAnswerJson(token, now + 30_500)).toBe(stringified(token, now + 30_500));
  });

  it('keeps each token its own text', () => {
    const first: AnswerableToken = {
      accessToken: 'one',
      tokenType: 'Bearer',
      expiresAtMs: now + 60_000,
      scope: null,
    };
    const second: AnswerableToken = { ...first, accessToken: 'two' };
    expect(JSON.parse(tokenAnswerJson(first, now)).accessToken).toBe('one');
    expect(JSON.parse(tokenAnswerJson(second, now)).accessToken).toBe('two');
  });
});
