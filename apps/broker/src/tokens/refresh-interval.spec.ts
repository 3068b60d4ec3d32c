import { backoffRemainingMs, refreshHeldBack } from './refresh-interval';
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

describe('refreshHeldBack counts attempts, not only successes', () => {
  it('holds back after a failed attempt within the interval, though the last success is old', () => {
    expect(refreshHeldBack(new Date(now - 3_600_000), token(100), 30, now, new Date(now - 5_000))).toBe(true);
    expect(refreshHeldBack(null, token(100), 30, now, new Date(now - 5_000))).toBe(true);
    expect(refreshHeldBack(null, token(100), 30, now, new Date(now - 31_000))).toBe(false);
  });
});

describe('backoffRemainingMs', () => {
  const at = (secondsAgo: number) => new Date(now - secondsAgo * 1000);
  const row = (attempted: Date | null, refreshed: Date | null, notBefore: Date | null = null) => ({
    lastAttemptedAt: attempted,
    lastRefreshedAt: refreshed,
    refreshNotBefore: notBefore,
  });

  it('waits out the rest of the interval after a failed attempt', () => {
    expect(backoffRemainingMs(row(at(10), at(3600)), 30, now)).toBe(20_000);
    expect(backoffRemainingMs(row(at(10), null), 30, now)).toBe(20_000);
  });

  it('does not wait after a successful attempt, once the interval passed, or with the interval off', () => {
    expect(backoffRemainingMs(row(at(10), at(9)), 30, now)).toBe(0);
    expect(backoffRemainingMs(row(at(40), at(3600)), 30, now)).toBe(0);
    expect(backoffRemainingMs(row(at(10), at(3600)), 0, now)).toBe(0);
    expect(backoffRemainingMs(row(null, null), 30, now)).toBe(0);
  });

  it("honours the provider's Retry-After, whatever the interval", () => {
    expect(backoffRemainingMs(row(at(1), at(3600), new Date(now + 7_000)), 0, now)).toBe(7_000);
    expect(backoffRemainingMs(row(at(1), at(3600), new Date(now + 7_000)), 30, now)).toBe(29_000);
    expect(backoffRemainingMs(row(at(1), at(3600), new Date(now - 1_000)), 0, now)).toBe(0);
  });
});
