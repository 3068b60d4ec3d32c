import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { validateEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { OidcVerifier } from './oidc-verifier';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A provider's discovery document and JWKS on loopback, whose published keys the test changes. */
class FakeProvider {
  published: JWK[] = [];
  jwksFetches = 0;
  private server?: Server;
  issuer = '';

  async start(port = 0): Promise<void> {
    this.server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/.well-known/openid-configuration') {
        response.end(
          JSON.stringify({
            issuer: this.issuer,
            authorization_endpoint: `${this.issuer}/auth`,
            token_endpoint: `${this.issuer}/token`,
            jwks_uri: `${this.issuer}/jwks`,
          }),
        );
      } else if (request.url === '/jwks') {
        this.jwksFetches += 1;
        response.end(JSON.stringify({ keys: this.published }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

async function signingKey(kid: string): Promise<{ key: Key; jwk: JWK; kid: string }> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { key: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' }, kid };
}

function verifierFor(issuer: string): OidcVerifier {
  return new OidcVerifier(
    validateEnvironment({
      BROKER_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
      BROKER_ADMIN_OIDC_ISSUER: issuer,
      BROKER_ADMIN_OIDC_CLIENT_ID: 'token-broker',
      BROKER_ADMIN_OIDC_ROLE_MAP: 'admin=admins,viewer=engineering,operator=oncall',
    }),
  );
}

describe('OidcVerifier', () => {
  const provider = new FakeProvider();
  let current: Awaited<ReturnType<typeof signingKey>>;
  const token = (key: { key: Key; kid: string }, claims: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: provider.issuer,
      aud: 'token-broker',
      sub: 'jane',
      iat: now,
      exp: now + 7200,
      groups: ['engineering', 'oncall'],
      email: 'jane@example.com',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .sign(key.key);
  };
  const failure = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BrokerError);
    return { code: (error as BrokerError).code, message: (error as BrokerError).message };
  };

  beforeAll(async () => {
    Logger.overrideLogger(false); // the provider-away warnings are expected here
    await provider.start();
    current = await signingKey('key-1');
    provider.published = [current.jwk];
    // Only the clock is faked: sockets and timeouts run for real.
    jest.useFakeTimers({
      doNotFake: [
        'setTimeout',
        'clearTimeout',
        'setInterval',
        'clearInterval',
        'setImmediate',
        'nextTick',
        'queueMicrotask',
        'hrtime',
        'performance',
      ],
    });
  });

  afterAll(async () => {
    jest.useRealTimers();
    await provider.stop();
  });

  it('names the person with the strongest mapped role and their email', async () => {
    await expect(verifierFor(provider.issuer).verify(await token(current))).resolves.toEqual({
      kind: 'oidc',
      actor: 'oidc:jane',
      role: 'operator',
      email: 'jane@example.com',
    });
    const roleless = await verifierFor(provider.issuer).verify(
      await token(current, { groups: ['marketing'] }),
    );
    expect(roleless.role).toBeNull();
  });

  it('follows a key rotation: an unseen kid fetches the JWKS again (after the 30 s cooldown)', async () => {
    const verifier = verifierFor(provider.issuer);
    await verifier.verify(await token(current));
    const next = await signingKey('key-2');
    provider.published = [current.jwk, next.jwk];
    const fetches = provider.jwksFetches;
    jest.setSystemTime(Date.now() + 31_000);
    await expect(verifier.verify(await token(next))).resolves.toMatchObject({ actor: 'oidc:jane' });
    expect(provider.jwksFetches).toBe(fetches + 1);
    current = next;
  });

  it('keeps verifying with fetched keys while the provider is away, past their cache age; 503 for others', async () => {
    const verifier = verifierFor(provider.issuer);
    await verifier.verify(await token(current));
    const unseen = await signingKey('key-3');
    const port = Number(new URL(provider.issuer).port);
    await provider.stop();
    try {
      jest.setSystemTime(Date.now() + 11 * 60_000);
      await expect(
        verifier.verify(await token(current, { exp: Math.floor(Date.now() / 1000) + 600 })),
      ).resolves.toMatchObject({
        actor: 'oidc:jane',
      });
      expect(await failure(verifier.verify(await token(unseen)))).toEqual({
        code: 'service_unavailable',
        message: 'the admin identity provider is unreachable; try again shortly',
      });
      expect(await failure(verifierFor(provider.issuer).verify(await token(current)))).toMatchObject({
        code: 'service_unavailable',
      });
    } finally {
      await provider.start(port);
    }
  });

  it('refuses another issuer, another audience, an expired token, an unknown key and alg none with 401', async () => {
    const verifier = verifierFor(provider.issuer);
    const stranger = await signingKey('key-1');
    const unsigned = (await token(current)).split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const cases = {
      issuer: await token(current, { iss: 'https://evil.example.com' }),
      audience: await token(current, { aud: 'another-app' }),
      expired: await token(current, { exp: Math.floor(Date.now() / 1000) - 3600 }),
      key: await token(stranger),
      none: `${header}.${unsigned[1]}.`,
    };
    const outcomes: Record<string, unknown> = {};
    for (const [name, jwt] of Object.entries(cases)) outcomes[name] = await failure(verifier.verify(jwt));
    expect(outcomes).toEqual({
      issuer: { code: 'unauthorized', message: 'the admin token is from another issuer' },
      audience: { code: 'unauthorized', message: 'the admin token is for another audience' },
      expired: { code: 'unauthorized', message: 'the admin token has expired' },
      key: { code: 'unauthorized', message: 'the admin token signature is invalid' },
      none: { code: 'unauthorized', message: 'the admin token is not signed with an allowed algorithm' },
    });
  });
});
