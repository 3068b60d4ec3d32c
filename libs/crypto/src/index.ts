export type { CipherContext } from './keyring';
export { DecryptionError, Keyring, KeyringConfigError } from './keyring';
export { apiKeyMatches, constantTimeEqualHex, generateSecret, hashApiKey } from './secrets';
