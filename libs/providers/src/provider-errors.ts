export type ProviderErrorCode = 'needs_reauthorization' | 'misconfigured' | 'transient' | 'invalid_response';

/**
 * What is known of the request a failure belongs to, for a refresh token the provider may have
 * consumed: `not_sent` (it provably never reached the provider: connection refused, DNS failure,
 * connect timeout, refused by the broker's own host guard), `refused` (the provider answered with a
 * definite refusal, an OAuth error or 4xx/429, and issued nothing), `unknown` (it left and no usable
 * answer came back: a timeout or reset after the send, a 5xx, an unreadable 200).
 */
export type RequestOutcome = 'not_sent' | 'refused' | 'unknown';

interface ProviderErrorDetails {
  upstreamError?: string;
  httpStatus?: number;
  retryAfterMs?: number;
  outcome?: RequestOutcome;
}

/**
 * A failed call to a provider's token endpoint. Messages are written for an admin who must act,
 * and never contain a secret, code or token, nor a response body beyond a short error_description.
 */
export abstract class ProviderError extends Error {
  abstract readonly code: ProviderErrorCode;
  abstract readonly retryable: boolean;
  readonly upstreamError?: string;
  readonly httpStatus?: number;
  readonly retryAfterMs?: number;
  /** Unset: a failure the broker raised without asking (no refresh token, a bad config): nothing was sent. */
  readonly outcome: RequestOutcome;

  constructor(message: string, details: ProviderErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.upstreamError = details.upstreamError;
    this.httpStatus = details.httpStatus;
    this.retryAfterMs = details.retryAfterMs;
    this.outcome = details.outcome ?? 'not_sent';
  }
}

/** The grant is dead (invalid_grant: code or refresh token expired, used or revoked): authorize again. */
export class NeedsReauthorizationError extends ProviderError {
  readonly code = 'needs_reauthorization' as const;
  readonly retryable = false;
}

/** The provider refuses the client itself (invalid_client, invalid_scope, audience…): fix the integration. */
export class ProviderMisconfiguredError extends ProviderError {
  readonly code = 'misconfigured' as const;
  readonly retryable = false;
}

/** Rate limits, 5xx, HTML error pages, timeouts and network errors: try again later. */
export class TransientProviderError extends ProviderError {
  readonly code = 'transient' as const;
  readonly retryable = true;
}

/** A 2xx answer that is not a usable token response. */
export class InvalidProviderResponseError extends ProviderError {
  readonly code = 'invalid_response' as const;
  readonly retryable = true;
}

/**
 * A 200 answer that carried a new refresh token and is otherwise unusable (an invalid field, an
 * unsupported token_type). The provider has consumed the refresh token that was sent: the new one
 * must be kept, and the old one never sent again. The new token is a non-enumerable property, so
 * no serializer (logs, spans, error bodies) ever writes it out.
 */
export class RotatedAnswerUnusableError extends InvalidProviderResponseError {
  declare readonly rotatedRefreshToken: string;
  declare readonly refreshTokenExpiresIn?: number;

  constructor(
    message: string,
    rotated: { refreshToken: string; refreshTokenExpiresIn?: number },
    details: ProviderErrorDetails = {},
  ) {
    super(message, details);
    Object.defineProperty(this, 'rotatedRefreshToken', { value: rotated.refreshToken, enumerable: false });
    Object.defineProperty(this, 'refreshTokenExpiresIn', {
      value: rotated.refreshTokenExpiresIn,
      enumerable: false,
    });
  }
}

/** Retry-After as seconds or an HTTP date, in milliseconds from now. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** An upstream error_description, shortened and stripped of control characters. */
export function safeDescription(text: unknown): string | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  // Control and format characters (bidi overrides, zero-width) could rewrite how a log line or
  // an admin's terminal shows the rest.
  const clean = text.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
