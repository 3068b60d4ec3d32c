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
  /**
   * Fields the provider's catalogue entry keeps from its answers, under the provider's own names
   * (`instance_url`, `realmId`…); present only when the entry keeps any. Never a secret.
   */
  metadata?: Record<string, unknown>;
}

/** What the 200 answer is made of: a token as the broker and the agent hold it. */
export interface AnswerableToken {
  accessToken: string;
  tokenType: string;
  expiresAtMs: number;
  scope: string | null;
  /** Answered as `metadata` when an object (null or absent: left out). */
  metadata?: Record<string, unknown> | null;
}

/** Per token, the answer's JSON text before and after `expiresIn`. */
const answerTextParts = new WeakMap<AnswerableToken, { head: string; tail: string }>();

/**
 * The 200 answer as JSON text, exactly what `JSON.stringify` writes for its `TokenAnswer`. Only
 * `expiresIn` changes between two answers with one token, so the rest is written once per token
 * and each answer joins three strings: no object to build and no serializer pass on the route
 * every caller hits.
 */
export function tokenAnswerJson(token: AnswerableToken, now = Date.now()): string {
  let parts = answerTextParts.get(token);
  if (parts === undefined) {
    const expiresAt = new Date(token.expiresAtMs).toISOString();
    parts = {
      head:
        `{"accessToken":${JSON.stringify(token.accessToken)},"tokenType":${JSON.stringify(token.tokenType)},` +
        `"expiresAt":"${expiresAt}","expiresIn":`,
      tail:
        `,"scope":${JSON.stringify(token.scope)}` +
        (token.metadata ? `,"metadata":${JSON.stringify(token.metadata)}}` : '}'),
    };
    answerTextParts.set(token, parts);
  }
  return parts.head + secondsLeft(token.expiresAtMs, now) + parts.tail;
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
