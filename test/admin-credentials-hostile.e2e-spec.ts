import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWTPayload } from 'jose';
import { ADMIN_TOKEN, BrokerProcess, freePort, startBroker } from './support/broker-process';
import { request } from './support/http';
import { createTestDatabase, query } from './support/test-database';
import { ADMIN_CLIENT_ID, IdentityProvider } from './support/identity-provider';
import { CLUSTER_ISSUER, clusterKey, projectedToken, type SigningKey } from './support/service-accounts';

const REDIS_URL = 'redis://127.0.0.1:6379/14';
const FAILURE_LIMIT = 60;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A JWS signed with HMAC-SHA256 over `secret`: what an attacker makes of a key they can read. */
function hmacJwt(header: Record<string, unknown>, payload: JWTPayload, secret: string | Buffer): string {
  const input = `${b64({ alg: 'HS256', typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/**
 * Hostile admin credentials: tokens of another issuer, for another audience, expired, signed by an
 * unknown key, unsigned (`alg: none`), HMAC-signed with public key material or with the broker's
 * own client keys, ServiceAccount tokens of the cluster, tampered claims, near-miss named and
 * bootstrap tokens. None is accepted (401 with the error body), refusals are audited without
 * write amplification, and the throttle blocks the flood without ever refusing a valid admin.
 * Redis DB 14 (shared with admin-identities.e2e-spec.ts; the e2e files run one at a time).
 */
describe('hostile admin credentials', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let idp: IdentityProvider;
  let broker: BrokerProcess;
  let workDir: string;
  let cluster: Awaited<ReturnType<typeof clusterKey>>;
  let aliceToken: string;
  let clientApiKey: string;
  let namedToken: string;

  beforeAll(async () => {
    const port = await freePort();
    const redirectUri = `http://127.0.0.1:${port}/docs/oauth2-redirect.html`;
    idp = await IdentityProvider.start({
      redirectUris: [redirectUri],
      people: { alice: { email: 'alice@example.com', groups: ['token-broker-admins'] } },
    });
    workDir = mkdtempSync(join(tmpdir(), 'broker-admin-hostile-'));
    cluster = await clusterKey('cluster-key-1');
    writeFileSync(join(workDir, 'jwks.json'), JSON.stringify({ keys: [cluster.jwk] }));
    db = await createTestDatabase('admin_hostile');
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL,
      BROKER_ROLE: 'api',
      BROKER_ADMIN_OIDC_ISSUER: idp.issuer,
      BROKER_ADMIN_OIDC_CLIENT_ID: ADMIN_CLIENT_ID,
      BROKER_ADMIN_OIDC_ROLE_MAP: 'admin=token-broker-admins',
      BROKER_SA_JWKS_FILE: join(workDir, 'jwks.json'),
      BROKER_SA_ISSUER: CLUSTER_ISSUER,
      BROKER_AUTH_FAILURE_LIMIT: String(FAILURE_LIMIT),
    });
    aliceToken = await idp.signIn('alice', redirectUri);
    const client = await request(broker.url, 'POST', '/admin/clients', {
      body: { name: 'svc', connections: ['*'] },
    });
    clientApiKey = client.body.apiKey;
    const minted = await request(broker.url, 'POST', '/admin/tokens', {
      body: { name: 'automation', role: 'admin', expiresInDays: 1 },
    });
    namedToken = minted.body.token;
  });

  afterAll(async () => {
    await broker?.stop();
    await idp?.stop();
    await db?.drop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  async function hostileCredentials(): Promise<Record<string, string>> {
    const idpKey = await importJWK(idp.signingKey.privateJwk, 'RS256');
    const sign = (payload: JWTPayload, options: { key?: SigningKey; kid?: string; alg?: string } = {}) =>
      new SignJWT({ groups: ['token-broker-admins'], ...payload })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? idp.signingKey.kid })
        .setIssuer((payload.iss as string) ?? idp.issuer)
        .setAudience((payload.aud as string) ?? ADMIN_CLIENT_ID)
        .setSubject('mallory')
        .setIssuedAt()
        .setExpirationTime((payload.exp as number) ?? '10m')
        .sign((options.key ?? idpKey) as SigningKey);
    const stranger = await generateKeyPair('RS256', { extractable: true });
    const strangerJwk = await exportJWK(stranger.publicKey);
    const now = Math.floor(Date.now() / 1000);
    const [header, payload, signature] = aliceToken.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const publicJwk = { kty: 'RSA', n: idp.signingKey.privateJwk.n, e: idp.signingKey.privateJwk.e };
    const validClaims = {
      iss: idp.issuer,
      aud: ADMIN_CLIENT_ID,
      sub: 'mallory',
      exp: now + 600,
      groups: ['token-broker-admins'],
    };
    return {
      'another issuer': await sign({ iss: 'https://evil.example.com' }),
      'another issuer, its own key': await sign(
        { iss: 'https://evil.example.com' },
        { key: stranger.privateKey, kid: 'evil' },
      ),
      'another audience': await sign({ aud: 'some-other-app' }),
      expired: await sign({ exp: now - 3600 }),
      'unknown key, same kid': await sign({}, { key: stranger.privateKey }),
      'unknown key, new kid': await sign({}, { key: stranger.privateKey, kid: 'rotated-in-by-mallory' }),
      'attacker key in the jwk header': `${b64({ alg: 'RS256', jwk: strangerJwk })}.${b64(validClaims)}.${
        (await sign({}, { key: stranger.privateKey })).split('.')[2]
      }`,
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(validClaims)}.`,
      'alg none, kid of the provider': `${b64({ alg: 'none', kid: idp.signingKey.kid })}.${b64(validClaims)}.`,
      'HS256 keyed with the provider public key (JSON)': hmacJwt(
        { kid: idp.signingKey.kid },
        validClaims,
        JSON.stringify(publicJwk),
      ),
      'HS256 keyed with the provider modulus': hmacJwt(
        { kid: idp.signingKey.kid },
        validClaims,
        Buffer.from(publicJwk.n!, 'base64url'),
      ),
      'HS256 keyed with a client API key': hmacJwt({}, validClaims, clientApiKey),
      'a client API key': clientApiKey,
      'ServiceAccount token of the cluster': await projectedToken('system:serviceaccount:default:admin', {
        key: cluster.privateKey,
        kid: 'cluster-key-1',
      }),
      'ServiceAccount key, provider issuer and audience': await sign(
        {},
        { key: cluster.privateKey, kid: 'cluster-key-1' },
      ),
      'ServiceAccount key, kid of the provider': await sign({}, { key: cluster.privateKey }),
      'signed-in token with tampered groups': `${header}.${b64({ ...claims, sub: 'mallory' })}.${signature}`,
      'signed-in token with a stripped signature': `${header}.${payload}.`,
      'named token, wrong secret': `${namedToken.slice(0, 21)}${'A'.repeat(namedToken.length - 21)}`,
      'named token, one character more': `${namedToken}A`,
      'bootstrap token, one character less': ADMIN_TOKEN.slice(0, -1),
      'bootstrap token, other case': ADMIN_TOKEN.toUpperCase(),
      'garbage JWT shape': 'a.b.c',
      'oversized JWT': `${header}.${'A'.repeat(10_000)}.${signature}`,
    };
  }

  it('accepts none of them: 401 with the error body on an admin route, 0 accepted', async () => {
    const outcomes: Record<string, unknown> = {};
    for (const [form, credential] of Object.entries(await hostileCredentials())) {
      const response = await request(broker.url, 'GET', '/admin/integrations', { token: credential });
      outcomes[form] = {
        status: response.status,
        body: Object.keys(response.body ?? {}).sort(),
        error: response.body?.error,
        leaks: response.text.includes(credential),
      };
    }
    for (const form of Object.keys(outcomes))
      expect({ form, outcome: outcomes[form] }).toEqual({
        form,
        outcome: {
          status: 401,
          body: ['error', 'message', 'statusCode'],
          error: 'unauthorized',
          leaks: false,
        },
      });
    // The real ones pass, so the refusals above are about the forgery, not the set-up.
    for (const credential of [aliceToken, namedToken, ADMIN_TOKEN])
      expect((await request(broker.url, 'GET', '/admin/integrations', { token: credential })).status).toBe(
        200,
      );
  });

  it('refuses a missing or non-bearer credential', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Basic ${Buffer.from(`x:${ADMIN_TOKEN}`).toString('base64')}` },
      { authorization: 'Bearer' },
    ];
    for (const headers of attempts) {
      const response = await request(broker.url, 'POST', '/admin/integrations', {
        token: null,
        headers,
        body: {},
      });
      expect({ status: response.status, error: response.body.error }).toEqual({
        status: 401,
        error: 'unauthorized',
      });
    }
  });

  it('audits refusals with the reason, one row per kind and second, not one per request', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const before = await query<{ count: string }>(
      db.url,
      `SELECT count(*) FROM audit_events WHERE action = 'admin.refused'`,
    );
    const flood = 30;
    await Promise.all(
      Array.from({ length: flood }, () =>
        request(broker.url, 'GET', '/admin/clients', {
          token: 'tba_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
        }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const rows = await query<{ details: { count: number; reason: string; ip: string } }>(
      db.url,
      `SELECT details FROM audit_events WHERE action = 'admin.refused' AND target_key = 'GET /admin/clients'`,
    );
    expect(rows.length).toBeLessThanOrEqual(3);
    expect(rows.reduce((sum, row) => sum + row.details.count, 0)).toBe(flood);
    expect(rows[0].details.reason).toBe('invalid admin credential');
    const after = await query<{ count: string }>(
      db.url,
      `SELECT count(*) FROM audit_events WHERE action = 'admin.refused'`,
    );
    expect(Number(after[0].count) - Number(before[0].count)).toBe(rows.length);
    const audited = await query(db.url, `SELECT * FROM audit_events WHERE action = 'admin.refused'`);
    expect(JSON.stringify(audited)).not.toContain('BBBBBBBBBBBB');
  });

  it('throttles repeated failures (429), yet a valid admin credential from the same address still works', async () => {
    let status = 0;
    for (let attempt = 0; attempt < FAILURE_LIMIT + 5 && status !== 429; attempt++)
      status = (await request(broker.url, 'GET', '/admin/integrations', { token: 'wrong-wrong-wrong' }))
        .status;
    expect(status).toBe(429);
    expect(
      (await request(broker.url, 'GET', '/admin/integrations', { token: 'wrong-wrong-wrong' })).status,
    ).toBe(429);
    expect((await request(broker.url, 'GET', '/admin/integrations', { token: aliceToken })).status).toBe(200);
    expect((await request(broker.url, 'GET', '/admin/integrations', { token: ADMIN_TOKEN })).status).toBe(
      200,
    );
  });
});
