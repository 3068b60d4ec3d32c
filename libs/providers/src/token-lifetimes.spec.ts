import type { TokenSet } from './oauth-protocol';
import {
  ACCESS_TOKEN_LIFETIME_BOUNDS,
  boundTokenLifetimes,
  REFRESH_TOKEN_LIFETIME_BOUNDS,
} from './token-lifetimes';

const tokens = (overrides: Partial<TokenSet>): TokenSet => ({
  accessToken: 'at',
  tokenType: 'Bearer',
  expiresIn: 3600,
  expiresInDefaulted: false,
  ...overrides,
});

describe('boundTokenLifetimes', () => {
  it('leaves ordinary lifetimes as they are', () => {
    const ordinary = tokens({ refreshTokenExpiresIn: 90 * 86_400 });
    expect(boundTokenLifetimes(ordinary)).toBe(ordinary);
  });

  it.each([1e15, Number.MAX_VALUE, Infinity])(
    'clamps expires_in %d to a year, and every date stays valid',
    (seconds) => {
      const bounded = boundTokenLifetimes(tokens({ expiresIn: seconds, refreshTokenExpiresIn: seconds }));
      expect(bounded.expiresIn).toBe(ACCESS_TOKEN_LIFETIME_BOUNDS.maxSeconds);
      expect(bounded.refreshTokenExpiresIn).toBe(REFRESH_TOKEN_LIFETIME_BOUNDS.maxSeconds);
      expect(bounded.lifetimeWarning).toMatch(/expires_in .*using 31536000 s/);
      expect(Number.isNaN(new Date(Date.now() + bounded.expiresIn * 1000).getTime())).toBe(false);
      expect(new Date(Date.now() + bounded.refreshTokenExpiresIn! * 1000).toISOString()).toMatch(/^20/);
    },
  );

  it('raises a lifetime under a second to a second', () => {
    expect(boundTokenLifetimes(tokens({ expiresIn: 0.001 })).expiresIn).toBe(1);
  });
});
