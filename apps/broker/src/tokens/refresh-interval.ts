import type { AccessToken } from './token-store';

/**
 * Whether an on-demand refresh is held back: the connection was refreshed upstream less than
 * `intervalSeconds` ago (by any replica: `last_refreshed_at` is the row's) and its token is still
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
): boolean {
  if (intervalSeconds <= 0 || lastRefreshedAt === null || token.expiresAtMs <= now) return false;
  return now - new Date(lastRefreshedAt).getTime() < intervalSeconds * 1000;
}
