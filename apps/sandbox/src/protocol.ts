import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An OAuth error response (RFC 6749 section 5.2), thrown by grant logic and sent by the token route. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${error}: ${description}`);
  }
}

export const invalidRequest = (description: string) => new OAuthError(400, 'invalid_request', description);
export const invalidGrant = (description: string) => new OAuthError(400, 'invalid_grant', description);
export const invalidScope = (description: string) => new OAuthError(400, 'invalid_scope', description);
export const unsupportedGrantType = (grantType: string) =>
  new OAuthError(400, 'unsupported_grant_type', `grant_type "${grantType}" is not supported here.`);

/** RFC 6749 5.2: a failed HTTP Basic attempt must be answered with a Basic challenge. */
export const invalidClient = (description: string, basicRealm?: string) =>
  new OAuthError(
    401,
    'invalid_client',
    description,
    basicRealm ? { 'www-authenticate': `Basic realm="${basicRealm}"` } : {},
  );

export type Params = Readonly<Record<string, string>>;

/**
 * Flattens a parsed query or form body into single string values. RFC 6749 3.1 and 3.2 forbid repeating a
 * parameter and say a parameter sent without a value is treated as omitted.
 */
export function readParams(source: unknown): Params {
  if (source === undefined || source === null) return {};
  if (typeof source !== 'object') throw invalidRequest('The request parameters could not be read.');
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) {
    if (Array.isArray(value)) throw invalidRequest(`Parameter "${name}" must not be repeated.`);
    if (typeof value === 'string' && value !== '') params[name] = value;
  }
  return params;
}

export function requireParam(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined) throw invalidRequest(`Parameter "${name}" is required.`);
  return value;
}

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * How a provider reads the id and secret of `Authorization: Basic`:
 * - `literal`: as they are, split at the first ":" (RFC 7617), as Bloomerang documents ("your client
 *   Id as the username and client secret as the password"); `%2D` stays `%2D`.
 * - `form-encoded`: RFC 6749 2.3.1 has clients form-encode each half before base64, so each half is
 *   form-decoded.
 */
export type BasicCredentialsReading = 'literal' | 'form-encoded';

/** Reads `Authorization: Basic` client credentials; undefined when the header is not Basic. */
export function readBasicCredentials(
  header: string | undefined,
  reading: BasicCredentialsReading,
  realm?: string,
): ClientCredentials | undefined {
  const match = /^Basic +(\S+) *$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const separator = decoded.indexOf(':');
  if (separator < 0) throw invalidClient('The Basic credentials are malformed.', realm);
  const clientId = decoded.slice(0, separator);
  const clientSecret = decoded.slice(separator + 1);
  if (reading === 'literal') return { clientId, clientSecret };
  try {
    return { clientId: formDecode(clientId), clientSecret: formDecode(clientSecret) };
  } catch {
    throw invalidClient('The Basic credentials are not correctly form-encoded.', realm);
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

/** Hashing first gives both sides the same length, so the comparison time reveals nothing about the secret. */
export function secretsEqual(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
}

export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}
