import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

/** SHA-256 hex: how API keys and OAuth states are stored. They are high-entropy, so no slow hash is needed. */
export function hashApiKey(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

/**
 * Whether an API key hashes to a stored digest (the bytes of a `hashApiKey` value), compared in
 * constant time: the token path's check, a one-shot hash with no hex round trip.
 */
export function apiKeyMatches(apiKey: string, storedDigest: Buffer): boolean {
  const digest = hash('sha256', apiKey, 'buffer');
  return storedDigest.length === digest.length && timingSafeEqual(digest, storedDigest);
}

/** A random base64url string of `bytes` random bytes. */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}
