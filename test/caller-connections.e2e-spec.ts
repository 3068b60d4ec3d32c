import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSandbox, Sandbox } from '../apps/sandbox/src/sandbox';
import { BrokerProcess, sleep, startBroker } from './support/broker-process';
import { createTestDatabase } from './support/test-database';
import { admin } from './support/http';
import { createBloomIntegration } from './support/provider-flows';
import { clusterKey, CLUSTER_ISSUER, projectedToken, SigningKey } from './support/service-accounts';

interface Read {
  status: number;
  /** Whether the request went over the connection an earlier request opened. */
  reused: boolean;
}

/** Token reads over one keep-alive connection, as a sidecar agent or an SDK sends them. */
function oneConnection(baseUrl: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  return {
    read(credential: string, connection: string): Promise<Read> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(
          `${baseUrl}/tokens/${connection}`,
          { agent, headers: { authorization: `Bearer ${credential}` } },
          (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, reused: req.reusedSocket }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    },
    close: () => agent.destroy(),
  };
}

/**
 * The guard remembers what each keep-alive connection proved (the same Authorization header, the
 * same caller): what the connection sends next must still be checked for itself, and a deleted
 * client or an expired ServiceAccount token must stop at once on a connection that proved them.
 */
describe('callers on a keep-alive connection', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let sandbox: Sandbox;
  let broker: BrokerProcess;
  let api: ReturnType<typeof admin>;
  let signingKey: SigningKey;
  const dir = mkdtempSync(join(tmpdir(), 'broker-caller-connections-'));

  const serviceAccountToken = (name: string, expiresIn: string) =>
    projectedToken(`system:serviceaccount:apps:${name}`, { key: signingKey, kid: 'cluster-key', expiresIn });

  const createClient = async (name: string, connections: string[], serviceAccount?: string) => {
    const created = await api.post('/admin/clients', {
      name,
      connections,
      ...(serviceAccount ? { serviceAccount, apiKey: false } : {}),
    });
    expect(created.status).toBe(201);
    return created.body as { id: string; apiKey?: string };
  };

  beforeAll(async () => {
    const cluster = await clusterKey('cluster-key');
    signingKey = cluster.privateKey;
    const jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [cluster.jwk] }));
    sandbox = createSandbox();
    const sandboxUrl = await sandbox.listen(0);
    db = await createTestDatabase('caller_connections');
    broker = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL: 'redis://127.0.0.1:6379/1',
      BROKER_SA_JWKS_FILE: jwksFile,
      BROKER_SA_ISSUER: CLUSTER_ISSUER,
    });
    api = admin(broker.url);
    expect((await createBloomIntegration(broker.url, sandboxUrl, 'bloom')).status).toBe(201);
    for (const key of ['kept', 'other']) {
      expect((await api.post('/admin/connections', { key, integration: 'bloom' })).body.status).toBe(
        'active',
      );
    }
  });

  afterAll(async () => {
    await broker?.stop();
    await sandbox?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('checks every other header sent on a connection that proved one key', async () => {
    const reader = (await createClient('reader', ['kept'])).apiKey!;
    const outsider = (await createClient('outsider', ['other'])).apiKey!;
    // Same prefix and length as the reader's key, another secret.
    const forged = `${reader.slice(0, -4)}${reader.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    const connection = oneConnection(broker.url);
    try {
      expect(await connection.read(reader, 'kept')).toEqual({ status: 200, reused: false });
      expect(await connection.read(reader, 'kept')).toEqual({ status: 200, reused: true });
      expect(await connection.read(forged, 'kept')).toEqual({ status: 401, reused: true });
      // Another client's key on the same connection is that client, with its own connections.
      expect(await connection.read(outsider, 'kept')).toEqual({ status: 403, reused: true });
      expect(await connection.read(outsider, 'other')).toEqual({ status: 200, reused: true });
      expect(await connection.read(reader, 'other')).toEqual({ status: 403, reused: true });
      expect(await connection.read(reader, 'kept')).toEqual({ status: 200, reused: true });
    } finally {
      connection.close();
    }
  });

  it('stops a deleted client at once on a connection it proved its key on', async () => {
    const leaving = await createClient('leaving', ['kept']);
    const connection = oneConnection(broker.url);
    try {
      expect((await connection.read(leaving.apiKey!, 'kept')).status).toBe(200);
      expect(await connection.read(leaving.apiKey!, 'kept')).toEqual({ status: 200, reused: true });
      expect((await api.delete(`/admin/clients/${leaving.id}`)).status).toBe(204);
      expect(await connection.read(leaving.apiKey!, 'kept')).toEqual({ status: 401, reused: true });
    } finally {
      connection.close();
    }
  });

  it('stops a ServiceAccount token at its expiry on a connection it proved it on', async () => {
    await createClient('pod', ['kept'], 'apps/pod');
    const token = await serviceAccountToken('pod', '3s');
    const expiresAtMs = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp * 1000;
    const connection = oneConnection(broker.url);
    try {
      expect((await connection.read(token, 'kept')).status).toBe(200);
      expect(await connection.read(token, 'kept')).toEqual({ status: 200, reused: true });
      await sleep(Math.max(0, expiresAtMs - Date.now()) + 50);
      expect(await connection.read(token, 'kept')).toEqual({ status: 401, reused: true });
    } finally {
      connection.close();
    }
  });
});
