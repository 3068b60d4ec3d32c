import type { AccessToken } from './token-store';

/**
 * Whether an on-demand refresh is held back: the connection was refreshed, or a refresh of it was
 * attempted, upstream less than `intervalSeconds` ago (by any replica: `last_refreshed_at` and
 * `last_attempted_at` are the row's) and its token is still
 * valid. The stored token is then answered as it is, as for a provider granting tokens shorter
 * than `minValidity`; so no caller, asking whatever `minValidity`, drives more than one upstream
 * refresh of a connection per interval. An expired token is never held back. Scheduled and
 * forced (admin) refreshes are not subject to it: they are planned or deliberate, not driven by
 * a reader.
 */
export function refreshHeldBack(
  lastRefreshedAt: Date | string | null,
  token: AccessToken,
  intervalSeconds: number,
  now = Date.now(),
  lastAttemptedAt: Date | string | null = null,
): boolean {
  if (intervalSeconds <= 0 || token.expiresAtMs <= now) return false;
  const last = Math.max(
    lastRefreshedAt === null ? 0 : new Date(lastRefreshedAt).getTime(),
    lastAttemptedAt === null ? 0 : new Date(lastAttemptedAt).getTime(),
  );
  return last > 0 && now - last < intervalSeconds * 1000;
}

/**
 * Milliseconds an on-demand refresh must still wait: the provider asked for it (Retry-After, per
 * connection), or the last upstream attempt failed less than `intervalSeconds` ago (attempts count,
 * not only successes, so a provider answering 429 or 5xx is not asked once per read). 0: go ahead.
 */
export function backoffRemainingMs(
  row: {
    lastAttemptedAt: Date | string | null;
    lastRefreshedAt: Date | string | null;
    refreshNotBefore: Date | string | null;
  },
  intervalSeconds: number,
  now = Date.now(),
): number {
  const notBefore = row.refreshNotBefore === null ? 0 : new Date(row.refreshNotBefore).getTime() - now;
  let sinceFailure = 0;
  if (intervalSeconds > 0 && row.lastAttemptedAt !== null) {
    const attempted = new Date(row.lastAttemptedAt).getTime();
    const refreshed = row.lastRefreshedAt === null ? 0 : new Date(row.lastRefreshedAt).getTime();
    // The last attempt did not end in a write of new tokens.
    if (attempted > refreshed) sinceFailure = attempted + intervalSeconds * 1000 - now;
  }
  return Math.max(0, notBefore, sinceFailure);
}
