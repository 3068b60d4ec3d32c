import type { ResolvedProvider } from '@broker/providers';
import type { RequestOutcome } from '@broker/providers';
import type { ConnectionEntity } from '../connections/connection.entity';
import { refreshTokenDigest } from './token-store';

/**
 * What a lease holder may do about a refresh before its own, found in the write-ahead record
 * (`refresh_in_flight_*`) because nothing settled its outcome: `send` its refresh anyway, or
 * `outcome_unknown`: the refresh token may have been consumed, and the provider revokes on reuse.
 *
 * - no record, or a record of another refresh token (a re-authorization or a kept write replaced
 *   it since): `send`;
 * - client credentials, rotation `none` or `rotating` (or not stated): `send` (a reuse is harmless);
 * - `grace`: `send` while the earlier request is inside the provider's grace window, less the
 *   time this call may take; after it, `outcome_unknown`;
 * - `single_use`: `outcome_unknown`.
 */
export function previousRefreshRule(
  provider: Pick<ResolvedProvider, 'grantType' | 'refreshTokenRotation' | 'refreshTokenGraceSeconds'>,
  row: Pick<ConnectionEntity, 'refreshInFlightFence' | 'refreshInFlightAt' | 'refreshInFlightDigest'>,
  refreshToken: string | null,
  callSeconds = 0,
  now = Date.now(),
): 'send' | 'outcome_unknown' {
  if (row.refreshInFlightFence === null || row.refreshInFlightAt === null || refreshToken === null)
    return 'send';
  if (provider.grantType !== 'authorization_code') return 'send';
  if (row.refreshInFlightDigest !== null && row.refreshInFlightDigest !== refreshTokenDigest(refreshToken))
    return 'send';
  switch (provider.refreshTokenRotation) {
    case 'single_use':
      return 'outcome_unknown';
    case 'grace': {
      const sentAt = new Date(row.refreshInFlightAt).getTime();
      const graceMs = (provider.refreshTokenGraceSeconds ?? 0) * 1000;
      return now + callSeconds * 1000 < sentAt + graceMs ? 'send' : 'outcome_unknown';
    }
    default:
      return 'send';
  }
}

/**
 * Whether a failed refresh settles its write-ahead record (true) or leaves it for the next holder
 * (false). The record stays only when the request may have been processed and the provider's rule
 * depends on when: `grace`. A `single_use` provider's unknown outcome is settled at once, as
 * `needs_reauthorization` (see `failsAsOutcomeUnknown`); every other rule retries.
 */
export function settlesRecord(
  provider: Pick<ResolvedProvider, 'grantType' | 'refreshTokenRotation'>,
  outcome: RequestOutcome,
): boolean {
  return !(
    outcome === 'unknown' &&
    provider.grantType === 'authorization_code' &&
    provider.refreshTokenRotation === 'grace'
  );
}

/** A failed refresh whose request may have consumed a refresh token that a reuse would revoke. */
export function failsAsOutcomeUnknown(
  provider: Pick<ResolvedProvider, 'grantType' | 'refreshTokenRotation'>,
  outcome: RequestOutcome,
): boolean {
  return (
    outcome === 'unknown' &&
    provider.grantType === 'authorization_code' &&
    provider.refreshTokenRotation === 'single_use'
  );
}
