import { refreshHeldBack } from './refresh-interval';
import type { AccessToken } from './token-store';

const now = Date.parse('2026-01-01T12:00:00Z');
const token = (secondsLeft: number) => ({ expiresAtMs: now + secondsLeft * 1000 }) as AccessToken;

describe('refreshHeldBack', () => {
  it('holds back a refresh within the interval while the token is valid', () => {
    expect(refreshHeldBack(new Date(now - 10_000), token(3590), 30, now)).toBe(true);
  });

  it('lets it through once the interval passed, for an expired token, or with the interval off', () => {
    expect(refreshHeldBack(new Date(now - 30_000), token(3570), 30, now)).toBe(false);
    expect(refreshHeldBack(new Date(now - 10_000), token(0), 30, now)).toBe(false);
    expect(refreshHeldBack(new Date(now - 10_000), token(100), 0, now)).toBe(false);
    expect(refreshHeldBack(null, token(100), 30, now)).toBe(false);
  });
});
