import { execFileSync } from 'node:child_process';
import { createSandbox, Sandbox, SANDBOX_CLIENTS } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, freePort, startBroker } from './support/broker-process';
import { createTestDatabase, storedRefreshToken } from './support/test-database';
import { admin, getToken, request } from './support/http';
import {
  authorizeAtSandbox,
  createApiKey,
  createBloomerangIntegration,
  createBloomIntegration,
  issueBloomerangGrant,
} from './support/provider-flows';

/**
 * After flows with both providers, nothing secret is in a plain-SQL dump of the database, in the
 * broker's logs (debug level), or in any admin answer.
 */
describe('secret scan', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let broker: BrokerProcess;
  const secrets = new Set<string>();
  /** States belong in the authorization URL the admin is given, and nowhere else. */
  const states = new Set<string>();
  const adminAnswers: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('secrets');
    sandbox = createSandbox({ autoApprove: true });
    const sandboxUrl = await sandbox.listen(0);
    const port = await freePort();
    broker = await startBroker({
      PORT: String(port),
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/8',
      BROKER_PUBLIC_URL: `http://127.0.0.1:${port}`,
      LOG_LEVEL: 'debug',
    });
    const api = admin(broker.url);
    const record = <T extends { text: string }>(answer: T) => (adminAnswers.push(answer.text), answer);

    secrets.add(SANDBOX_CLIENTS.bloomerang.clientSecret).add(SANDBOX_CLIENTS.bloom.clientSecret);
    await createBloomerangIntegration(broker.url, sandboxUrl, 'bloomerang');
    record(await createBloomIntegration(broker.url, sandboxUrl, 'bloom'));
    record(
      await createBloomIntegration(broker.url, sandboxUrl, 'bloom-broken', {
        clientSecret: 'wrong-secret-value-42',
      }),
    );
    secrets.add('wrong-secret-value-42');

    // Bloomerang: authorize, read, refresh, replay the callback, fail an exchange.
    const created = record(await api.post('/admin/connections', { key: 'acme', integration: 'bloomerang' }));
    const callback = await authorizeAtSandbox(created.body.authorizationUrl, broker.url);
    const callbackUrl = new URL(callback);
    secrets.add(callbackUrl.searchParams.get('code')!).add(callbackUrl.searchParams.get('state')!);
    states.add(callbackUrl.searchParams.get('state')!);
    expect(
      (await request(broker.url, 'GET', `${callbackUrl.pathname}${callbackUrl.search}`, { token: null }))
        .status,
    ).toBe(200);
    expect(
      (await request(broker.url, 'GET', `${callbackUrl.pathname}${callbackUrl.search}`, { token: null }))
        .status,
    ).toBe(400);
    const apiKey = await createApiKey(broker.url);
    secrets.add(apiKey);
    for (let i = 0; i < 3; i++) {
      secrets.add((await getToken(broker.url, apiKey, 'acme')).body.accessToken);
      secrets.add(await storedRefreshToken(db.url, 'acme'));
      record(await api.post('/admin/connections/acme/refresh'));
    }
    secrets.add((await getToken(broker.url, apiKey, 'acme')).body.accessToken);
    secrets.add(await storedRefreshToken(db.url, 'acme'));
    const second = record(await api.post('/admin/connections', { key: 'beta', integration: 'bloomerang' }));
    const secondCallback = new URL(await authorizeAtSandbox(second.body.authorizationUrl, broker.url));
    secrets.add(secondCallback.searchParams.get('code')!).add(secondCallback.searchParams.get('state')!);
    states.add(secondCallback.searchParams.get('state')!);
    sandbox.configure({ fault: 'invalidJson' });
    await request(broker.url, 'GET', `${secondCallback.pathname}${secondCallback.search}`, { token: null });
    sandbox.configure({ fault: 'none' });

    // Bloom: client credentials, good and refused.
    record(await api.post('/admin/connections', { key: 'credit', integration: 'bloom' }));
    record(await api.post('/admin/connections', { key: 'credit-broken', integration: 'bloom-broken' }));
    secrets.add((await getToken(broker.url, apiKey, 'credit')).body.accessToken);
    await getToken(broker.url, 'tbk_wrongwrongwr_' + 'x'.repeat(43), 'credit');

    // Import: connections authorized elsewhere, one alone and two in bulk, and a dead refresh token.
    const elsewhere = [sandboxUrl, sandboxUrl, sandboxUrl].map((url) => issueBloomerangGrant(url));
    const [alone, one, other] = await Promise.all(elsewhere);
    for (const grant of [alone, one, other]) secrets.add(grant.refreshToken).add(grant.accessToken);
    const importedAlone = record(
      await api.post('/admin/connections', {
        key: 'imported',
        integration: 'bloomerang',
        refreshToken: alone.refreshToken,
      }),
    );
    expect(importedAlone.body.status).toBe('active');
    const importedBulk = record(
      await api.post('/admin/connections/import', {
        connections: [
          {
            key: 'imported-bulk-1',
            integration: 'bloomerang',
            refreshToken: one.refreshToken,
            accessToken: one.accessToken,
            expiresAt: new Date(Date.now() + one.expiresIn * 1000).toISOString(),
          },
          { key: 'imported-bulk-2', integration: 'bloomerang', refreshToken: other.refreshToken },
          { key: 'imported-dead', integration: 'bloomerang', refreshToken: 'dead-refresh-token-0451' },
          { key: 'imported-cc', integration: 'bloom', refreshToken: 'cc-refresh-token-0452' },
          { key: 'imported', integration: 'bloomerang', refreshToken: 'taken-refresh-token-0453' },
        ],
      }),
    );
    expect(importedBulk.body.results.map((result: { status: string }) => result.status)).toEqual([
      'active',
      'active',
      'needs_reauthorization',
      'invalid',
      'exists',
    ]);
    secrets.add('dead-refresh-token-0451').add('cc-refresh-token-0452').add('taken-refresh-token-0453');
    for (const key of ['imported', 'imported-bulk-2']) {
      secrets.add(await storedRefreshToken(db.url, key));
      secrets.add((await getToken(broker.url, apiKey, key)).body.accessToken);
    }

    for (const path of [
      '/admin/integrations',
      '/admin/connections',
      '/admin/clients',
      '/admin/audit?limit=1000',
    ]) {
      record(await api.get(path));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // let the audit batch and logs flush
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
  });

  const leaks = (text: string, allowed = new Set<string>()) =>
    [...secrets].filter((secret) => secret && !allowed.has(secret) && text.includes(secret));

  it('collected the secrets it looks for', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(28);
  });

  it('finds none in a plain-SQL dump of the database', () => {
    const dump = execFileSync('pg_dump', ['--inserts', db.url], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(dump).toContain('INSERT INTO public.connections');
    expect(leaks(dump)).toEqual([]);
  });

  it('finds none in the logs', () => {
    const logs = broker.output();
    expect(logs.length).toBeGreaterThan(0);
    expect(leaks(logs)).toEqual([]);
  });

  it('finds none in admin answers, but for the states of the authorization URLs given out', () => {
    expect(adminAnswers.length).toBeGreaterThan(5);
    expect(leaks(adminAnswers.join('\n'), states)).toEqual([]);
  });
});
