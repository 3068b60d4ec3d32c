import { randomBytes } from 'node:crypto';
import { DecryptionError, Keyring, KeyringConfigError } from './keyring';
import { apiKeyMatches, generateSecret, hashApiKey } from './secrets';

const key = (fill: number) => Buffer.alloc(32, fill).toString('base64');
const ctx = { table: 'connections', column: 'refresh_token', rowId: '11111111-1111-1111-1111-111111111111' };

describe('Keyring', () => {
  const ring = Keyring.parse(`k1:${key(1)},k0:${key(2)}`);

  it.each(['', 'a refresh token', 'ünïcødé ✓ 🔑', 'x'.repeat(100_000)])('round-trips %#', (plaintext) => {
    expect(ring.decrypt(ring.encrypt(plaintext, ctx), ctx)).toBe(plaintext);
  });

  it('uses a fresh IV every time and names the sealing key', () => {
    const a = ring.encrypt('same', ctx);
    const b = ring.encrypt('same', ctx);
    expect(a).not.toBe(b);
    expect(a.split('.')[2]).not.toBe(b.split('.')[2]);
    expect(ring.keyIdOf(a)).toBe('k1');
    expect(a).not.toContain('same');
  });

  it.each([
    ['another row', { ...ctx, rowId: '22222222-2222-2222-2222-222222222222' }],
    ['another column', { ...ctx, column: 'access_token' }],
    ['another table', { ...ctx, table: 'integrations' }],
  ])('refuses a value moved to %s', (_, elsewhere) => {
    const sealed = ring.encrypt('secret', ctx);
    expect(() => ring.decrypt(sealed, elsewhere)).toThrow(DecryptionError);
  });

  it('refuses a flipped bit in ciphertext or tag', () => {
    const sealed = ring.encrypt('secret value', ctx);
    const parts = sealed.split('.');
    for (const index of [3, 4]) {
      const bytes = Buffer.from(parts[index], 'base64url');
      bytes[0] ^= 1;
      const tampered = [...parts];
      tampered[index] = bytes.toString('base64url');
      expect(() => ring.decrypt(tampered.join('.'), ctx)).toThrow(DecryptionError);
    }
    expect(() => ring.decrypt('not-sealed', ctx)).toThrow(DecryptionError);
  });

  it('names an unknown key id', () => {
    const other = Keyring.parse(`k9:${key(9)}`);
    const sealed = other.encrypt('secret', ctx);
    expect(() => ring.decrypt(sealed, ctx)).toThrow(/"k9"/);
  });

  it('rotates: old values open under a ring led by a new key, and re-encrypt under it', () => {
    const old = Keyring.parse(`old:${key(3)}`);
    const sealedOld = old.encrypt('refresh-token-value', ctx);
    const rotated = Keyring.parse(`new:${key(4)},old:${key(3)}`);
    expect(rotated.needsRotation(sealedOld)).toBe(true);
    expect(rotated.decrypt(sealedOld, ctx)).toBe('refresh-token-value');
    const sealedNew = rotated.reencrypt(sealedOld, ctx);
    expect(rotated.keyIdOf(sealedNew)).toBe('new');
    expect(rotated.needsRotation(sealedNew)).toBe(false);
    const newOnly = Keyring.parse(`new:${key(4)}`);
    expect(newOnly.decrypt(sealedNew, ctx)).toBe('refresh-token-value');
    expect(() => newOnly.decrypt(sealedOld, ctx)).toThrow(DecryptionError);
  });

  it.each([
    [undefined, 'BROKER_ENCRYPTION_KEYS is required'],
    ['', 'BROKER_ENCRYPTION_KEYS is required'],
    ['nokeyid', 'entry 1 must be keyId:base64-of-32-bytes'],
    [`bad id:${key(1)}`, 'invalid key id'],
    [`k1:${Buffer.alloc(16, 1).toString('base64')}`, 'key "k1" is 16 bytes, expected 32'],
    ['k1:***', 'key "k1" is not valid base64'],
    [`k1:${key(1)},k1:${key(2)}`, 'key id "k1" appears twice'],
  ])('refuses %p with a message naming the problem', (spec, message) => {
    let thrown: unknown;
    try {
      Keyring.parse(spec);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KeyringConfigError);
    expect((thrown as Error).message).toContain('BROKER_ENCRYPTION_KEYS');
    expect((thrown as Error).message).toContain(message);
    if (spec)
      for (const part of spec.split(/[:,]/))
        if (part.length > 20) expect((thrown as Error).message).not.toContain(part);
  });

  it('accepts base64url keys and generated specs', () => {
    const raw = randomBytes(32);
    expect(Keyring.parse(`u:${raw.toString('base64url')}`).primaryKeyId).toBe('u');
    const generated = Keyring.parse(Keyring.generateKeySpec('fresh'));
    expect(generated.keyIds).toEqual(['fresh']);
  });
});

describe('secrets', () => {
  it('compares digests in constant time without throwing on length mismatch', () => {
    const digest = hashApiKey('tbk_key');
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(apiKeyMatches('tbk_key', Buffer.from(digest, 'hex'))).toBe(true);
    expect(apiKeyMatches('tbk_other', Buffer.from(digest, 'hex'))).toBe(false);
    expect(apiKeyMatches('tbk_key', Buffer.from('abcd', 'hex'))).toBe(false);
  });

  it('generates distinct url-safe secrets', () => {
    const a = generateSecret(32);
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateSecret(32)).not.toBe(a);
  });
});
