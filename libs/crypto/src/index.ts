export type { CipherContext } from './keyring';
export { DecryptionError, Keyring, KeyringConfigError } from './keyring';
export { constantTimeEqualHex, generateSecret, hashApiKey } from './secrets';
