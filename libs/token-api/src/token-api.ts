/**
 * The token API's rules shared by the broker and the sidecar agent, which must answer exactly
 * alike: the `minValidity` query, the connection key shape, the answer and the error body.
 * Dependency-free, so the agent loads nothing of the broker's stack through it.
 */

export const DEFAULT_MIN_VALIDITY = 60;
export const MAX_MIN_VALIDITY = 86_400;
export const MIN_VALIDITY_RULE = `minValidity must be an integer from 0 to ${MAX_MIN_VALIDITY} (seconds)`;

/** Integration and connection keys: chosen by the admin, safe in URLs, logs and metric labels. */
export const CONNECTION_KEY_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * `minValidity` as the contract has it: an integer from 0 to 86400, 60 when absent. Returns
 * null for anything else (a repeated parameter arrives as an array and is refused too).
 */
export function readMinValidity(raw: unknown): number | null {
  if (raw === undefined) return DEFAULT_MIN_VALIDITY;
  if (typeof raw !== 'string' || !/^\d{1,5}$/.test(raw) || Number(raw) > MAX_MIN_VALIDITY) return null;
  return Number(raw);
}

/** The 200 answer of `GET /tokens/:connection`. */
export interface TokenAnswer {
  accessToken: string;
  tokenType: string;
  /** ISO 8601 */
  expiresAt: string;
  /** Seconds left at the time of the answer. */
  expiresIn: number;
  scope: string | null;
}

/** Every error answer: `{ statusCode, error, message }`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export function errorBody(statusCode: number, error: string, message: string): ErrorBody {
  return { statusCode, error, message };
}

/** Seconds left of a token expiring at `expiresAtMs`, as the answer's `expiresIn` counts them. */
export function secondsLeft(expiresAtMs: number, now = Date.now()): number {
  return Math.max(0, Math.floor((expiresAtMs - now) / 1000));
}
