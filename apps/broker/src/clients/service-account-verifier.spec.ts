import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { validateEnvironment } from '../config/environment';
import { ServiceAccountVerifier } from './service-account-verifier';
import { VerifiedTokenCache } from './verified-token-cache';

const ISSUER = 'https://kubernetes.default.svc.cluster.local';
const KEYS = `k1:${Buffer.alloc(32, 1).toString('base64')}`;

/**
 * The real verifier against a JWKS file and jose-signed tokens; the clock is one the test moves,
 * shared by the cache and the verification, so expiry is checked without waiting.
 */
describe('ServiceAccountVerifier, verified-token cache', () => {
  let dir: string;
  let sign: (subject: string, options?: { expiresAt?: number; issuer?: string }) => Promise<string>;
  let signWithStrangerKey: (subject: string) => Promise<string>;
  let clock: number;

  const verifier = (maxEntries = 100) => {
    const env = validateEnvironment({
      BROKER_ENCRYPTION_KEYS: KEYS,
      BROKER_ADMIN_API: 'false',
      BROKER_SA_JWKS_FILE: join(dir, 'jwks.json'),
      BROKER_SA_ISSUER: ISSUER,
    });
    const cache = new VerifiedTokenCache<string>(maxEntries, () => clock);
    return { verifier: new ServiceAccountVerifier(env, cache), cache };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sa-verifier-'));
    const cluster = await generateKeyPair('RS256');
    const stranger = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(cluster.publicKey)), kid: 'cluster', alg: 'RS256' };
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    const token = (subject: string, expiresAt: number, issuer: string) =>
      new SignJWT({})
        .setIssuer(issuer)
        .setAudience('token-broker')
        .setSubject(subject)
        .setIssuedAt(Math.floor(clock / 1000))
        .setExpirationTime(expiresAt);
    sign = (subject, options = {}) =>
      token(subject, options.expiresAt ?? Math.floor(clock / 1000) + 3600, options.issuer ?? ISSUER)
        .setProtectedHeader({ alg: 'RS256', kid: 'cluster' })
        .sign(cluster.privateKey);
    signWithStrangerKey = (subject) =>
      token(subject, Math.floor(clock / 1000) + 3600, ISSUER)
        .setProtectedHeader({ alg: 'RS256', kid: 'cluster' })
        .sign(stranger.privateKey);
  });

  beforeEach(() => {
    clock = Date.now();
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('remembers a verified token and answers it again without verifying its signature', async () => {
    const { verifier: sa, cache } = verifier();
    // Every signature check asks the JWKS for the key; a cache hit must not.
    const keyLookups = jest.spyOn(sa as unknown as { fromFile: () => unknown }, 'fromFile');
    const token = await sign('system:serviceaccount:apps:billing');
    expect(sa.remembered(token)).toBeUndefined();
    expect(await sa.verify(token)).toBe('apps/billing');
    expect(keyLookups).toHaveBeenCalledTimes(1);
    expect(sa.remembered(token)?.serviceAccount).toBe('apps/billing');
    expect(cache.size).toBe(1);
    expect(await sa.verify(token)).toBe('apps/billing');
    expect(await sa.verify(token)).toBe('apps/billing');
    expect(keyLookups).toHaveBeenCalledTimes(1);
    expect(cache.size).toBe(1);
  });

  it('keeps a token until its exp and not a moment longer', async () => {
    const { verifier: sa, cache } = verifier();
    const expiresAt = Math.floor(clock / 1000) + 60;
    const token = await sign('system:serviceaccount:apps:billing', { expiresAt });
    expect(await sa.verify(token)).toBe('apps/billing');
    clock = expiresAt * 1000 - 1;
    expect(await sa.verify(token)).toBe('apps/billing');
    expect(sa.remembered(token)).toEqual({ serviceAccount: 'apps/billing', expiresAtMs: expiresAt * 1000 });
    clock = expiresAt * 1000;
    expect(sa.remembered(token)).toBeUndefined();
    expect(cache.get(cache.keyOf(token))).toBeUndefined();
    expect(await sa.verify(token)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('refuses a token issued longer ago than BROKER_SA_MAX_TOKEN_AGE (default a day), and forgets one that ages past it', async () => {
    const { verifier: fresh } = verifier();
    const issuedAt = clock;
    clock = issuedAt - 2 * 86_400_000; // signed two days ago, valid for three
    const old = await sign('system:serviceaccount:shop:cart', {
      expiresAt: Math.floor(issuedAt / 1000) + 86_400,
    });
    clock = issuedAt;
    expect(await fresh.verify(old)).toBeNull();
    // Issued now and valid for two days: accepted, and remembered only until it is a day old.
    const young = await sign('system:serviceaccount:shop:cart', {
      expiresAt: Math.floor(clock / 1000) + 2 * 86_400,
    });
    expect(await fresh.verify(young)).toBe('shop/cart');
    expect(fresh.remembered(young)?.expiresAtMs).toBeLessThanOrEqual(clock + 86_400_000);
  });

  it('does not cache refused tokens as valid', async () => {
    const { verifier: sa, cache } = verifier();
    const wrongIssuer = await sign('system:serviceaccount:apps:billing', { issuer: 'https://elsewhere' });
    const wrongKey = await signWithStrangerKey('system:serviceaccount:apps:billing');
    const notAServiceAccount = await sign('system:node:worker-1');
    for (const token of [wrongIssuer, wrongKey, notAServiceAccount]) {
      expect(await sa.verify(token)).toBeNull();
      expect(sa.remembered(token)).toBeUndefined();
      expect(await sa.verify(token)).toBeNull();
    }
    expect(cache.size).toBe(0);
  });

  it('does not confuse different tokens', async () => {
    const { verifier: sa } = verifier();
    const billing = await sign('system:serviceaccount:apps:billing');
    const reports = await sign('system:serviceaccount:apps:reports');
    const billingAgain = await sign('system:serviceaccount:apps:billing', {
      expiresAt: Math.floor(clock / 1000) + 1800,
    });
    expect(await sa.verify(billing)).toBe('apps/billing');
    expect(await sa.verify(reports)).toBe('apps/reports');
    expect(await sa.verify(billingAgain)).toBe('apps/billing');
    // The same account's older token, a lookalike signed by another key: refused, cache or not.
    expect(await sa.verify(await signWithStrangerKey('system:serviceaccount:apps:billing'))).toBeNull();
    expect(await sa.verify(reports)).toBe('apps/reports');
    expect(await sa.verify(billing)).toBe('apps/billing');
  });

  it('holds at most its cap, dropping the least recently used token first', async () => {
    const { verifier: sa, cache } = verifier(3);
    const tokens = await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) => sign(`system:serviceaccount:apps:${name}`)),
    );
    for (const token of tokens.slice(0, 3)) await sa.verify(token);
    await sa.verify(tokens[0]); // a is now the most recently used, b the least
    await sa.verify(tokens[3]);
    expect(cache.size).toBe(3);
    expect(cache.get(cache.keyOf(tokens[1]))).toBeUndefined();
    for (const [i, name] of [
      [0, 'a'],
      [2, 'c'],
      [3, 'd'],
    ] as const) {
      expect(cache.get(cache.keyOf(tokens[i]))).toBe(`apps/${name}`);
    }
    // The dropped one is verified again, and still valid.
    expect(await sa.verify(tokens[1])).toBe('apps/b');
    expect(cache.size).toBe(3);
  });
});
