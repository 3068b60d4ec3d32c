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
