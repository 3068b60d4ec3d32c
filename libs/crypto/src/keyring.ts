import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** Where a sealed value lives; bound into the ciphertext as associated data. */
export interface CipherContext {
  table: string;
  column: string;
  rowId: string;
}

export class KeyringConfigError extends Error {
  override name = 'KeyringConfigError';
}

export class DecryptionError extends Error {
  override name = 'DecryptionError';
  constructor(
    message: string,
    readonly keyId?: string,
  ) {
    super(message);
  }
}

/**
 * AES-256-GCM keyring: the first key seals, every key opens. A sealed value is
 * `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url), with a fresh random IV each time, and the
 * associated data `v1|<table>.<column>:<rowId>`, so a value copied to another row or column does
 * not open.
 */
export class Keyring {
  private constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    readonly primaryKeyId: string,
  ) {}

  static parse(spec: string | undefined, variableName = 'BROKER_ENCRYPTION_KEYS'): Keyring {
    if (spec === undefined || spec.trim() === '') throw new KeyringConfigError(`${variableName} is required`);
    const keys = new Map<string, Buffer>();
    let primary: string | undefined;
    for (const [index, entry] of spec.split(',').entries()) {
      const trimmed = entry.trim();
      const separator = trimmed.indexOf(':');
      if (separator < 0) {
        throw new KeyringConfigError(`${variableName}: entry ${index + 1} must be keyId:base64-of-32-bytes`);
      }
      const keyId = trimmed.slice(0, separator);
      const encoded = trimmed.slice(separator + 1);
      if (!KEY_ID.test(keyId)) {
        throw new KeyringConfigError(
          `${variableName}: entry ${index + 1} has an invalid key id (1-32 characters of A-Z, a-z, 0-9, "_", "-")`,
        );
      }
      if (keys.has(keyId)) throw new KeyringConfigError(`${variableName}: key id "${keyId}" appears twice`);
      if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
        throw new KeyringConfigError(`${variableName}: key "${keyId}" is not valid base64`);
      }
      const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (key.length !== KEY_BYTES) {
        throw new KeyringConfigError(
          `${variableName}: key "${keyId}" is ${key.length} bytes, expected ${KEY_BYTES}`,
        );
      }
      keys.set(keyId, key);
      primary ??= keyId;
    }
    return new Keyring(keys, primary!);
  }

  /** A fresh `keyId:base64` entry, for first-run setup. */
  static generateKeySpec(keyId = `k${Date.now()}`): string {
    return `${keyId}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  encrypt(plaintext: string, ctx: CipherContext): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.primaryKeyId)!, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(associatedData(ctx));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.primaryKeyId, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
  }

  decrypt(sealed: string, ctx: CipherContext): string {
    const { keyId, iv, tag, ciphertext } = split(sealed);
    const key = this.keys.get(keyId);
    if (!key) throw new DecryptionError(`sealed with key "${keyId}", which is not in the keyring`, keyId);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(associatedData(ctx));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptionError(
        `value of ${ctx.table}.${ctx.column} does not open: tampered, or sealed for another row or column`,
        keyId,
      );
    }
  }

  keyIdOf(sealed: string): string {
    return split(sealed).keyId;
  }

  needsRotation(sealed: string): boolean {
    return this.keyIdOf(sealed) !== this.primaryKeyId;
  }

  reencrypt(sealed: string, ctx: CipherContext): string {
    return this.needsRotation(sealed) ? this.encrypt(this.decrypt(sealed, ctx), ctx) : sealed;
  }
}

function associatedData(ctx: CipherContext): Buffer {
  return Buffer.from(`${FORMAT}|${ctx.table}.${ctx.column}:${ctx.rowId}`, 'utf8');
}

function b64(buffer: Buffer): string {
  return buffer.toString('base64url');
}

function split(sealed: string): { keyId: string; iv: Buffer; tag: Buffer; ciphertext: Buffer } {
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 5 || parts[0] !== FORMAT || !KEY_ID.test(parts[1])) {
    throw new DecryptionError('not a sealed value of a known format');
  }
  const [, keyId, iv, tag, ciphertext] = parts;
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES) {
    throw new DecryptionError('not a sealed value of a known format', keyId);
  }
  return { keyId, iv: ivBytes, tag: tagBytes, ciphertext: Buffer.from(ciphertext, 'base64url') };
}
