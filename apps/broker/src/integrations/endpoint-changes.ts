import { checkProviderHosts, ProviderConfigError, ResolvedProvider } from '@broker/providers';
import { BrokerError } from '../common/broker-error';

const ENDPOINTS = ['tokenUrl', 'authorizationUrl'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

/** The endpoints an update moves, with their old and new hosts (what the audit row records). */
export type EndpointMoves = Partial<Record<Endpoint, { from: string | null; to: string | null }>>;

export function endpointMoves(before: ResolvedProvider, after: ResolvedProvider): EndpointMoves {
  const moves: EndpointMoves = {};
  for (const endpoint of ENDPOINTS) {
    if (before[endpoint] !== after[endpoint]) {
      moves[endpoint] = { from: hostOf(before[endpoint]), to: hostOf(after[endpoint]) };
    }
  }
  return moves;
}

/**
 * The token endpoint receives the client secret and every refresh token; the authorization
 * endpoint, the account's users. Moving either is asked to prove the secret, so an admin token
 * alone cannot send the stored secret (write-only) to a host of its choosing.
 */
export function requireSecretForMoves(moves: EndpointMoves, clientSecretGiven: boolean): void {
  const moved = Object.keys(moves);
  if (moved.length === 0 || clientSecretGiven) return;
  throw BrokerError.badRequest(
    `changing ${moved.join(' and ')} needs clientSecret in the same PATCH: the stored secret is never sent to a new endpoint without it`,
  );
}

/** Refuses endpoints in private or link-local ranges (unless allowed), as a 400 naming the field. */
export async function checkEndpointHosts(resolved: ResolvedProvider): Promise<void> {
  try {
    await checkProviderHosts(resolved);
  } catch (error) {
    if (error instanceof ProviderConfigError) throw BrokerError.badRequest(error.message);
    throw error;
  }
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}
