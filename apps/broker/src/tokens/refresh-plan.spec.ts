import { MAX_REFRESH_LEAD_MS, planNextRefresh, planWithRefreshTokenLifetime } from './refresh-plan';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const noJitter = () => 0;
const fullJitter = () => 0.999999;

describe('planNextRefresh', () => {
  it('renews a 1-hour token 15 minutes ahead and a 1-day token 15 minutes ahead', () => {
    expect(planNextRefresh(T0, 3600, noJitter).getTime()).toBe(T0 + 45 * 60_000);
    expect(planNextRefresh(T0, 86_400, noJitter).getTime()).toBe(T0 + 86_400_000 - MAX_REFRESH_LEAD_MS);
  });

  it('spreads tokens issued together over up to 10% of the lead', () => {
    const earliest = planNextRefresh(T0, 3600, fullJitter).getTime();
    expect(T0 + 45 * 60_000 - earliest).toBeGreaterThan(89_000);
    expect(T0 + 45 * 60_000 - earliest).toBeLessThanOrEqual(90_000);
  });

  it('never plans a short-lived token sooner than half its lifetime', () => {
    expect(planNextRefresh(T0, 10, fullJitter).getTime()).toBeGreaterThanOrEqual(T0 + 5_000);
    expect(planNextRefresh(T0, 1, fullJitter).getTime()).toBeGreaterThanOrEqual(T0 + 1_000);
  });
});

describe('planWithRefreshTokenLifetime', () => {
  it('keeps the plan when the refresh token outlives it', () => {
    const next = new Date(T0 + 45 * 60_000);
    expect(planWithRefreshTokenLifetime(next, T0, new Date(T0 + 90 * 86_400_000))).toEqual(next);
    expect(planWithRefreshTokenLifetime(next, T0, null)).toEqual(next);
  });

  it('moves the refresh ahead of a refresh token that would lapse first', () => {
    const next = new Date(T0 + 100 * 86_400_000);
    const planned = planWithRefreshTokenLifetime(next, T0, new Date(T0 + 90 * 86_400_000));
    expect(planned.getTime()).toBe(T0 + 89 * 86_400_000);
  });
});
