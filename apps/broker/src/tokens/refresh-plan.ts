/** The longest a token is refreshed ahead of its expiry, whatever its lifetime. */
export const MAX_REFRESH_LEAD_MS = 15 * 60_000;
/** A token is never refreshed again sooner than this after it was issued. */
export const MIN_REFRESH_INTERVAL_MS = 1_000;

/**
 * When to refresh a token proactively: a quarter of its lifetime ahead of expiry, at most 15
 * minutes (so a 1-hour token is renewed after 45 minutes and a 1-day token 15 minutes before it
 * lapses), minus up to 10% of that lead as jitter so that thousands of tokens issued together do
 * not come due together. Never earlier than half the lifetime, so very short tokens are renewed at
 * a pace proportional to their lifetime instead of in a hot loop.
 */
export function planNextRefresh(issuedAtMs: number, expiresInSeconds: number, random = Math.random): Date {
  const lifetimeMs = expiresInSeconds * 1000;
  const leadMs = Math.min(lifetimeMs / 4, MAX_REFRESH_LEAD_MS);
  const jitterMs = random() * leadMs * 0.1;
  const expiresAtMs = issuedAtMs + lifetimeMs;
  const earliest = issuedAtMs + Math.max(lifetimeMs / 2, MIN_REFRESH_INTERVAL_MS);
  return new Date(Math.max(expiresAtMs - leadMs - jitterMs, earliest));
}

/**
 * A refresh token with a lifetime (Bloomerang's 90 days) is used before it lapses even when the
 * access token lives longer than the planned refresh allows: a day ahead, or at half its life.
 */
export function planWithRefreshTokenLifetime(
  next: Date,
  issuedAtMs: number,
  refreshTokenExpiresAt: Date | null,
): Date {
  if (!refreshTokenExpiresAt) return next;
  const lifetimeMs = refreshTokenExpiresAt.getTime() - issuedAtMs;
  const deadline = refreshTokenExpiresAt.getTime() - Math.min(86_400_000, lifetimeMs / 2);
  return deadline < next.getTime()
    ? new Date(Math.max(deadline, issuedAtMs + MIN_REFRESH_INTERVAL_MS))
    : next;
}

/**
 * When the stored refresh token lapses: the answer's own `refresh_token_expires_in` first; else an
 * idle lifetime (Google's six months unused, Xero's 60 days), which each use starts again, whether
 * or not the token rotated; else a lifetime from issue (Bloomerang's 90 days) when a new one was
 * issued; else what was known of the one kept.
 */
export function planRefreshTokenExpiry(
  lifetimeSeconds: number | undefined,
  idleSeconds: number | undefined,
  answer: { refreshToken?: string; refreshTokenExpiresIn?: number },
  refreshToken: string | null,
  known: Date | string | null,
  issuedAtMs: number,
): Date | null {
  if (!refreshToken) return null;
  if (answer.refreshToken && answer.refreshTokenExpiresIn)
    return new Date(issuedAtMs + answer.refreshTokenExpiresIn * 1000);
  // The stored expiry of a kept token cannot bound this: it is most often the idle expiry planned
  // at the previous use, which this use pushes back.
  if (idleSeconds) return new Date(issuedAtMs + idleSeconds * 1000);
  if (answer.refreshToken && lifetimeSeconds) return new Date(issuedAtMs + lifetimeSeconds * 1000);
  return known ? new Date(known) : null;
}

/**
 * A provider that refuses a refresh while the access token has more than `windowSeconds` left
 * (Exact Online): the refresh is planned no earlier than one second inside that window.
 */
export function notBeforeRefreshWindow(
  planned: Date,
  issuedAtMs: number,
  expiresInSeconds: number,
  windowSeconds: number,
): Date {
  const earliest = issuedAtMs + Math.max(expiresInSeconds - windowSeconds + 1, 0) * 1000;
  return planned.getTime() < earliest ? new Date(earliest) : planned;
}
