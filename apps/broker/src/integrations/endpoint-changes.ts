import { timingSafeEqual } from 'node:crypto';
import {
  bindConnectionConfig,
  checkProviderHosts,
  ProviderConfigError,
  ResolvedProvider,
} from '@broker/providers';
import { BrokerError } from '../common/broker-error';

const ENDPOINTS = ['tokenUrl', 'authorizationUrl'] as const;
type Endpoint = (typeof ENDPOINTS)[number];

/**
 * The endpoints an update moves, with their old and new hosts (what the audit row records). A
 * change to the connection `config` fields or their patterns counts as a move too: a `{name}`
 * placeholder can stand for the host.
 */
export type EndpointMoves = Partial<
  Record<Endpoint | 'configFields', { from: string | null; to: string | null }>
>;

export function endpointMoves(before: ResolvedProvider, after: ResolvedProvider): EndpointMoves {
  const moves: EndpointMoves = {};
  for (const endpoint of ENDPOINTS) {
    if (before[endpoint] !== after[endpoint]) {
      moves[endpoint] = { from: hostOf(before[endpoint]), to: hostOf(after[endpoint]) };
    }
  }
  const fieldsBefore = describeFields(before);
  const fieldsAfter = describeFields(after);
  if (fieldsBefore !== fieldsAfter) moves.configFields = { from: fieldsBefore, to: fieldsAfter };
  return moves;
}

/**
 * The token endpoint receives the client secret and every refresh token; the authorization
 * endpoint, the account's users. Moving either proves the stored secret (the same value given
 * again) or replaces it: an admin token alone cannot send the stored secret (write-only) to a host
 * of its choosing. Returns what the PATCH did with the secret, for the audit.
 */
export function checkSecretForMoves(
  moves: EndpointMoves,
  given: string | undefined,
  stored: () => string,
): 'proved' | 'replaced' | undefined {
  if (given === undefined) {
    const moved = Object.keys(moves);
    if (moved.length === 0) return undefined;
    throw BrokerError.badRequest(
      `changing ${moved.join(' and ')} needs clientSecret in the same PATCH (the current one, or a new one to replace it): the stored secret is never sent to a new endpoint without it`,
    );
  }
  const current = Buffer.from(stored());
  const candidate = Buffer.from(given);
  return current.length === candidate.length && timingSafeEqual(current, candidate) ? 'proved' : 'replaced';
}

/**
 * The token host a connection's refresh token goes to under these settings, or null when its
 * stored config no longer fits them (it then cannot be refreshed anywhere).
 */
export function connectionTokenHost(
  provider: ResolvedProvider,
  config: Record<string, string> | null,
): string | null {
  try {
    return new URL(bindConnectionConfig(provider, config).tokenUrl).host;
  } catch (error) {
    if (error instanceof ProviderConfigError || error instanceof TypeError) return null;
    throw error;
  }
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

function describeFields(provider: ResolvedProvider): string | null {
  const fields = provider.configFields ?? [];
  if (fields.length === 0) return null;
  return fields.map((field) => `${field.name}=${field.pattern}`).join(' ');
}

function hostOf(url: string | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url.replace(/\{([A-Za-z][A-Za-z0-9_]{0,31})\}/g, '$1')).host;
  } catch {
    return null;
  }
}
