import type { TokenSet } from './oauth-protocol';

/**
 * Bounds on the lifetimes a provider may claim. An access token said to last more than a year is
 * treated as lasting a year (it is refreshed ahead of that, which a provider always accepts); a
 * refresh token as lasting ten years. Below a second, a second. Within these bounds every date
 * the broker computes from them is valid, so a provider's unit bug (`expires_in: 1e15`) can never
 * make a write fail after a refresh token was rotated.
 */
export const ACCESS_TOKEN_LIFETIME_BOUNDS = { minSeconds: 1, maxSeconds: 365 * 86_400 } as const;
export const REFRESH_TOKEN_LIFETIME_BOUNDS = { minSeconds: 1, maxSeconds: 10 * 365 * 86_400 } as const;

/** The token set with its lifetimes within bounds; `lifetimeWarning` says what was clamped. */
export function boundTokenLifetimes(tokens: TokenSet): TokenSet {
  const warnings: string[] = [];
  const expiresIn = clamp(tokens.expiresIn, ACCESS_TOKEN_LIFETIME_BOUNDS, 'expires_in', warnings);
  const refreshTokenExpiresIn =
    tokens.refreshTokenExpiresIn === undefined
      ? undefined
      : clamp(
          tokens.refreshTokenExpiresIn,
          REFRESH_TOKEN_LIFETIME_BOUNDS,
          'refresh_token_expires_in',
          warnings,
        );
  if (warnings.length === 0) return tokens;
  return { ...tokens, expiresIn, refreshTokenExpiresIn, lifetimeWarning: warnings.join('; ') };
}

/**
 * A claimed access-token lifetime the token response's checks would refuse (0, negative, past any
 * finite number) as the bounded value to use instead, with the warning saying so; undefined when
 * the claim is a positive finite number (the usual case) or not a number at all.
 */
export function boundClaimedExpiresIn(claimed: unknown): { seconds: number; warning: string } | undefined {
  const seconds =
    typeof claimed === 'number'
      ? claimed
      : typeof claimed === 'string' && claimed.trim() !== ''
        ? Number(claimed)
        : Number.NaN;
  if (Number.isNaN(seconds) || (Number.isFinite(seconds) && seconds > 0)) return undefined;
  const warnings: string[] = [];
  const bounded = clamp(seconds, ACCESS_TOKEN_LIFETIME_BOUNDS, 'expires_in', warnings);
  return { seconds: bounded, warning: warnings[0] };
}

function clamp(
  seconds: number,
  bounds: { minSeconds: number; maxSeconds: number },
  name: string,
  warnings: string[],
): number {
  if (!Number.isFinite(seconds) || seconds > bounds.maxSeconds) {
    warnings.push(`provider answered ${name} ${String(seconds).slice(0, 24)}; using ${bounds.maxSeconds} s`);
    return bounds.maxSeconds;
  }
  if (seconds < bounds.minSeconds) {
    warnings.push(`provider answered ${name} ${String(seconds).slice(0, 24)}; using ${bounds.minSeconds} s`);
    return bounds.minSeconds;
  }
  return seconds;
}
