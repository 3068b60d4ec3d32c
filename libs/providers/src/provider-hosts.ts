import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, LookupFunction } from 'node:net';
import { Readable } from 'node:stream';
import { ProviderConfigError } from './provider-config';
import { ProviderMisconfiguredError } from './provider-errors';

/**
 * Addresses a provider endpoint may not have unless private provider hosts are allowed
 * (BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS): private, link-local, shared (CGNAT), unspecified and the
 * other IANA special-purpose ranges that are not the public internet, where a token request
 * (client secret and refresh token included) would reach the cluster's own services or a cloud
 * metadata endpoint. NAT64 and 6to4 addresses embed an IPv4 address of any kind, so they are
 * refused too. IPv4-mapped IPv6 addresses are checked as the IPv4 address they carry. Loopback is
 * its own switch (BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS): sidecars listen there.
 */
const INTERNAL_RANGES: [string, number, 'ipv4' | 'ipv6', string][] = [
  ['10.0.0.0', 8, 'ipv4', 'private'],
  ['172.16.0.0', 12, 'ipv4', 'private'],
  ['192.168.0.0', 16, 'ipv4', 'private'],
  ['100.64.0.0', 10, 'ipv4', 'private (shared address space)'],
  ['169.254.0.0', 16, 'ipv4', 'link-local'],
  ['0.0.0.0', 8, 'ipv4', 'unspecified'],
  ['192.0.0.0', 24, 'ipv4', 'reserved (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'ipv4', 'reserved (documentation)'],
  ['198.51.100.0', 24, 'ipv4', 'reserved (documentation)'],
  ['203.0.113.0', 24, 'ipv4', 'reserved (documentation)'],
  ['198.18.0.0', 15, 'ipv4', 'reserved (benchmarking)'],
  ['192.88.99.0', 24, 'ipv4', 'reserved (6to4 relay)'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved'],
  ['fc00::', 7, 'ipv6', 'private (unique local)'],
  ['fe80::', 10, 'ipv6', 'link-local'],
  ['fec0::', 10, 'ipv6', 'link-local (site-local)'],
  ['::', 128, 'ipv6', 'unspecified'],
  ['::', 96, 'ipv6', 'reserved (IPv4-compatible)'],
  ['64:ff9b::', 96, 'ipv6', 'reserved (NAT64)'],
  ['64:ff9b:1::', 48, 'ipv6', 'reserved (local NAT64)'],
  ['100::', 64, 'ipv6', 'reserved (discard)'],
  ['2001::', 23, 'ipv6', 'reserved (IETF protocol assignments)'],
  ['2001:db8::', 32, 'ipv6', 'reserved (documentation)'],
  ['3fff::', 20, 'ipv6', 'reserved (documentation)'],
  ['2002::', 16, 'ipv6', 'reserved (6to4)'],
  ['5f00::', 16, 'ipv6', 'reserved (segment routing)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
];
const RANGES = INTERNAL_RANGES.map(([network, prefix, family, kind]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, family);
  return { list, kind };
});
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** What kind of internal address this is (`private`, `link-local`…), or undefined for a public or loopback one. */
export function internalAddressKind(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return undefined;
  const type = family === 4 ? 'ipv4' : 'ipv6';
  // BlockList checks an IPv4-mapped address (::ffff:a.b.c.d) against the IPv4 ranges itself.
  if (type === 'ipv6' && LOOPBACK.check(address, 'ipv6')) return undefined;
  return RANGES.find(({ list }) => list.check(address, type))?.kind;
}

/** True for 127.0.0.0/8 and ::1 (and ::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export type HostLookup = (hostname: string) => Promise<{ address: string }[]>;
const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

let allowPrivateHosts = false;
let allowLoopbackHosts = false;
let lookupHost: HostLookup = systemLookup;

/**
 * Set once at start from BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS and
 * BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS; `lookup` is replaced in tests only.
 */
export function configureProviderHosts(options: {
  allowPrivate: boolean;
  allowLoopback?: boolean;
  lookup?: HostLookup;
}): void {
  allowPrivateHosts = options.allowPrivate;
  allowLoopbackHosts = options.allowLoopback ?? false;
  lookupHost = options.lookup ?? systemLookup;
}

/** A URL's host as a name or a bare address (no IPv6 brackets). */
function hostnameOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/** Why this address may not be a provider endpoint's, or undefined. */
function addressProblem(field: string, hostname: string, address: string): string | undefined {
  const via = address === hostname ? '' : ` (${hostname} resolves to ${address})`;
  if (isLoopbackAddress(address)) {
    if (allowLoopbackHosts) return undefined;
    return `${field} points at a loopback address${via}; provider endpoints must be public (set BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS=true to allow loopback ones, e.g. for a local sandbox)`;
  }
  if (allowPrivateHosts) return undefined;
  const kind = internalAddressKind(address);
  if (!kind) return undefined;
  return `${field} points at a ${kind} address${via}; provider endpoints must be public (set BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS=true to allow private ones)`;
}

function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Why this endpoint's host is refused, or undefined. A literal address is checked as it is; a name
 * by every address it resolves to now. At save time a name that does not resolve (yet) is let
 * through: the call resolves it again, and refuses it then (see `providerFetch`). A `{name}`
 * placeholder is checked once bound, at call time.
 */
export async function providerHostProblem(field: string, url: string): Promise<string | undefined> {
  const hostname = hostnameOf(url);
  if (isLocalhostName(hostname)) return addressProblem(field, hostname, '127.0.0.1');
  let addresses: string[];
  if (isIP(hostname) !== 0) {
    addresses = [hostname];
  } else {
    if (allowPrivateHosts && allowLoopbackHosts) return undefined;
    try {
      addresses = (await lookupHost(hostname)).map((entry) => entry.address);
    } catch {
      return undefined;
    }
  }
  for (const address of addresses) {
    const problem = addressProblem(field, hostname, address);
    if (problem) return problem;
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

/**
 * At call time, before each token request: DNS may have changed since the integration was saved.
 * Resolves the name once, checks every address, and returns the one to connect to; a name that
 * does not resolve is refused here (nothing is sent).
 */
export async function checkedProviderAddress(url: string | URL): Promise<{ address: string; family: 4 | 6 }> {
  const field = 'the token endpoint';
  const hostname = hostnameOf(String(url));
  let addresses: string[];
  if (isIP(hostname) !== 0) {
    addresses = [hostname];
  } else if (isLocalhostName(hostname)) {
    addresses = ['127.0.0.1'];
  } else {
    try {
      addresses = (await lookupHost(hostname)).map((entry) => entry.address);
    } catch (error) {
      throw new TypeError('fetch failed', { cause: error });
    }
    if (addresses.length === 0) {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error(hostname), { code: 'ENOTFOUND' }),
      });
    }
  }
  for (const address of addresses) {
    const problem = addressProblem(field, hostname, address);
    if (problem) throw new ProviderMisconfiguredError(problem);
  }
  return { address: addresses[0], family: isIP(addresses[0]) === 6 ? 6 : 4 };
}

/** The checked address of a token request's host, to hand to `providerFetch`. */
export type PinnedAddress = Awaited<ReturnType<typeof checkedProviderAddress>>;

/** As `checkedProviderAddress`, for callers that check before they count a request as sent. */
export function guardProviderRequest(url: string | URL): Promise<PinnedAddress> {
  return checkedProviderAddress(url);
}

/**
 * `fetch` for token requests, pinned to the address that was checked: the connection goes to that
 * address (TLS still verifies the name), so a DNS answer that changes between the check and the
 * connect (rebinding) cannot move the request onto an internal host. Redirects are not followed.
 * `checked`: the address `guardProviderRequest` returned for this URL, so it is not looked up twice.
 */
export async function providerFetch(
  url: string | URL,
  init: RequestInit = {},
  checked?: PinnedAddress,
): Promise<Response> {
  const target = new URL(String(url));
  const pinned = checked ?? (await checkedProviderAddress(target));
  const request = new Request(target, { ...init, redirect: 'manual' });
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const signal = init.signal ?? undefined;
  signal?.throwIfAborted();
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    headers[name] = value;
  });
  if (body) headers['content-length'] = String(body.length);
  const pinnedLookup: LookupFunction = (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
  return new Promise<Response>((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(
      target,
      { method: request.method, headers, lookup: pinnedLookup, signal },
      (incoming) => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (value === undefined) continue;
          for (const item of Array.isArray(value) ? value : [value]) responseHeaders.append(name, item);
        }
        const status = incoming.statusCode ?? 502;
        const noBody = status === 204 || status === 205 || status === 304;
        if (noBody) incoming.resume();
        try {
          resolve(
            new Response(noBody ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>), {
              status: status >= 200 && status <= 599 ? status : 502,
              statusText: incoming.statusMessage,
              headers: responseHeaders,
            }),
          );
        } catch (error) {
          reject(new TypeError('fetch failed', { cause: error }));
        }
      },
    );
    outgoing.on('error', (error) => {
      if (signal?.aborted) reject(signal.reason);
      else reject(new TypeError('fetch failed', { cause: error }));
    });
    outgoing.end(body);
  });
}
