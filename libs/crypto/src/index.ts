export type { CipherContext } from './keyring';
export { DecryptionError, Keyring, KeyringConfigError } from './keyring';
export { apiKeyMatches, generateSecret, hashApiKey } from './secrets';
