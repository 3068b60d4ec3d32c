import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ProviderConfigError } from './provider-config';
import { ProviderMisconfiguredError } from './provider-errors';

/**
 * Addresses a provider endpoint may not have unless private provider hosts are allowed
 * (BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS): private, link-local, shared (CGNAT) and unspecified
 * ranges, where a token request (client secret and refresh token included) would reach the
 * cluster's own services or a cloud metadata endpoint. Loopback stays allowed: sandboxes, tests.
 * IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry.
 */
const INTERNAL_RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'private (shared address space)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['::', 128, 'ipv6', 'unspecified'],
];
const RANGES = INTERNAL_RANGES.map(([network, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, kind };
});

/** What kind of internal address this is (`private`, `link-local`…), or undefined for a public or loopback one. */
export function internalAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return RANGES.find(({ list }) => list.check(address, type))?.kind;
}

export type HostLookup = (hostname: string) => Promise<{ address: string }[]>;
const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

let allowPrivateHosts = false;
let lookupHost: HostLookup = systemLookup;

/** Set once at start from BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS; `lookup` is replaced in tests only. */
export function configureProviderHosts(options: { allowPrivate: boolean; lookup?: HostLookup }): void {
  allowPrivateHosts = options.allowPrivate;
  lookupHost = options.lookup ?? systemLookup;
}

/**
 * Why this endpoint's host is refused, or undefined. A literal address is checked as it is; a name
 * by every address it resolves to now. A name that does not resolve is not refused here (the call
 * fails by itself).
 */
export async function providerHostProblem(field: string, url: string): Promise<string | undefined> {
  if (allowPrivateHosts) return undefined;
  const hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(hostname) !== 0) {
    addresses = [hostname];
  } else {
    try {
      addresses = (await lookupHost(hostname)).map((entry) => entry.address);
    } catch {
      return undefined;
    }
  }
  for (const address of addresses) {
    const kind = internalAddressKind(address);
    if (kind) {
      const via = address === hostname ? '' : ` (${hostname} resolves to ${address})`;
      return `${field} points at a ${kind} address${via}; provider endpoints must be public (set BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS=true to allow private ones)`;
    }
  }
  return undefined;
}

/** At create and update time: the endpoints the broker or the user's browser will be sent to. */
export async function checkProviderHosts(endpoints: {
  tokenUrl: string;
  authorizationUrl?: string;
}): Promise<void> {
  for (const [field, url] of [
    ['tokenUrl', endpoints.tokenUrl],
    ['authorizationUrl', endpoints.authorizationUrl],
  ] as const) {
    if (url === undefined) continue;
    const problem = await providerHostProblem(field, url);
    if (problem) throw new ProviderConfigError(problem);
  }
}

/** At call time, before each token request: DNS may have changed since the integration was saved. */
export async function guardProviderRequest(url: string | URL): Promise<void> {
  const problem = await providerHostProblem('the token endpoint', String(url));
  if (problem) throw new ProviderMisconfiguredError(problem);
}
