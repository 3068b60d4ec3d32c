import {
  MAX_REFRESH_LEAD_MS,
  notBeforeRefreshWindow,
  planNextRefresh,
  planRefreshTokenExpiry,
  planWithRefreshTokenLifetime,
} from './refresh-plan';

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

describe('planRefreshTokenExpiry', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  const day = 86_400_000;

  it('takes the answer’s own refresh_token_expires_in first', () => {
    expect(
      planRefreshTokenExpiry(
        90 * 86_400,
        undefined,
        { refreshToken: 'r2', refreshTokenExpiresIn: 3600 },
        'r2',
        null,
        now,
      ),
    ).toEqual(new Date(now + 3_600_000));
  });

  it('starts an idle lifetime again on every use, even when the token did not rotate (Google)', () => {
    const plannedAtLastUse = new Date(now + 181 * day);
    expect(planRefreshTokenExpiry(undefined, 182 * 86_400, {}, 'r1', plannedAtLastUse, now)).toEqual(
      new Date(now + 182 * day),
    );
  });

  it('keeps Bloomerang’s rule: a lifetime from issue for a new token, the known expiry for a kept one', () => {
    expect(planRefreshTokenExpiry(90 * 86_400, undefined, { refreshToken: 'r2' }, 'r2', null, now)).toEqual(
      new Date(now + 90 * day),
    );
    const known = new Date(now + 5 * day);
    expect(planRefreshTokenExpiry(90 * 86_400, undefined, {}, 'r1', known, now)).toEqual(known);
    expect(planRefreshTokenExpiry(90 * 86_400, undefined, {}, null, known, now)).toBeNull();
  });
});

describe('notBeforeRefreshWindow', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it('plans no refresh before the provider accepts one (Exact Online: less than 30 s left)', () => {
    const planned = planNextRefresh(now, 600, () => 0);
    const next = notBeforeRefreshWindow(planned, now, 600, 30);
    expect(next).toEqual(new Date(now + 571_000));
    expect(now + 600_000 - next.getTime()).toBeLessThan(30_000);
  });

  it('leaves a plan that is already inside the window', () => {
    const planned = new Date(now + 590_000);
    expect(notBeforeRefreshWindow(planned, now, 600, 30)).toBe(planned);
  });
});
