/**
 * A model of the refresh protocol, checked with fast-check's model-based commands against the real
 * TokenRefresher and TokenStore on a real Postgres database and the provider sandbox (started in
 * process, enforcing each rotation rule): reads, forced and scheduled refreshes, crashes (a replica's
 * memory dropped: a fresh refresher over the same database), provider answer variants and time passing.
 *
 * The invariant, after every command: no refresh token was sent twice unless the provider's rule takes
 * it (never refused; inside the grace window for `grace`; never for `single_use`), and no token the
 * provider handed over was forgotten (the stored refresh token is one the provider still takes), unless
 * the connection was given up after an unknown outcome on a `single_use` provider.
 */
import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { configureProviderHosts, type TokenSet } from '@broker/providers';
import {
  authorizeKind,
  ROTATION_KIND_PROVIDERS,
  startTestSandbox,
  type RotationKind,
  type TestSandbox,
} from '../../../sandbox/src/testing';
import { profileClient, SANDBOX_CLIENTS, type FaultRule } from '../../../sandbox/src/sandbox';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { AuditLog } from '../audit/audit-log';
import { validateEnvironment, type BrokerEnvironment } from '../config/environment';
import { ConnectionEntity } from '../model/connection.entity';
import { dataSourceOptions } from '../database/data-source';
import { runMigrations } from '../database/run-migrations';
import { IntegrationEntity } from '../model/integration.entity';
import { IntegrationsService } from '../integrations/integrations.service';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { SecretCipher } from '../security/secret-cipher';
import { ConnectionEvents } from '../event-bus/connection-events';
import { RotatedTokenGuard } from '../tokens/rotated-token-guard';
import { TokenCache } from '../tokens/token-cache';
import { TokenEvents } from '../tokens/token-events';
import { TokenRefresher } from '../tokens/token-refresher';
import { TokenStore } from '../tokens/token-store';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const KINDS = Object.keys(ROTATION_KIND_PROVIDERS) as RotationKind[];
/** Runs per rotation rule, each a fresh connection; modest, so the file ends well under a minute. */
const RUNS = 40;
const MAX_COMMANDS = 10;

const ANSWER_VARIANTS = [
  'lostAnswer',
  'slowAnswer',
  'errorAfterProcessing',
  'zeroExpiresIn',
  'overflowingExpiresIn',
  'arrayScope',
  'nonBearerTokenType',
  'rateLimited',
  'unavailable',
] as const satisfies readonly FaultRule['fault'][];

/** One replica's memory: what a crash throws away. */
interface Replica {
  readonly refresher: TokenRefresher;
  readonly cache: TokenCache;
  readonly events: ConnectionEvents;
}

interface Real {
  replica: Replica;
  readonly connectionId: string;
  readonly account: string;
}

interface Model {
  readonly kind: RotationKind;
  /** Commands run so far, for the failure message. */
  readonly log: string[];
  /** The answer variant set for the next request, until a request has met it. */
  fault?: (typeof ANSWER_VARIANTS)[number];
}

/** 200 answers carrying the rotated refresh token (and one bad field): the broker has it in hand. */
const DELIVERED: ReadonlySet<string> = new Set([
  'zeroExpiresIn',
  'overflowingExpiresIn',
  'arrayScope',
  'nonBearerTokenType',
]);

describe('refresh protocol model (real TokenRefresher and TokenStore, real Postgres, the sandbox)', () => {
  const name = `broker_model_${randomUUID().slice(0, 8)}`;
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  let server: TestSandbox;
  let db: DataSource;
  let env: BrokerEnvironment;
  let store: TokenStore;
  let integrations: IntegrationsService;
  let metrics: BrokerMetrics;
  let audit: AuditLog;
  const integrationIds = new Map<RotationKind, string>();
  const replicas: Replica[] = [];

  async function startReplica(): Promise<Replica> {
    const events = new ConnectionEvents(env);
    await events.onModuleInit();
    const cache = new TokenCache(events, db, env);
    const refresher = new TokenRefresher(
      env,
      store,
      cache,
      events,
      integrations,
      metrics,
      new TokenEvents(),
      new RotatedTokenGuard(db, metrics),
    );
    const replica = { refresher, cache, events };
    replicas.push(replica);
    return replica;
  }

  async function stopReplica(replica: Replica): Promise<void> {
    replica.refresher.onApplicationShutdown();
    await replica.events.onApplicationShutdown();
  }

  beforeAll(async () => {
    // The refresher warns about every bad answer the model feeds it: expected, and not worth a screen.
    Logger.overrideLogger(false);
    server = await startTestSandbox({ autoApprove: true });
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    await runMigrations(url);
    // The sandbox listens on loopback, which the broker refuses as a provider host unless allowed.
    configureProviderHosts({ allowPrivate: false, allowLoopback: true });
    env = validateEnvironment({
      BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS: 'true',
      DATABASE_URL: url,
      REDIS_URL: 'redis://127.0.0.1:6379/0',
      BROKER_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
      BROKER_ADMIN_TOKEN: 'model-admin-token-0123456789abcdef-0123456789',
      BROKER_PUBLIC_URL: 'http://127.0.0.1:9',
      BROKER_MIN_REFRESH_INTERVAL_SECONDS: '0',
      BROKER_REFRESH_LEASE_SECONDS: '5',
      // A slow answer costs the model this much per command.
      BROKER_PROVIDER_TIMEOUT_MS: '400',
      LOG_LEVEL: 'silent',
    });
    db = new DataSource(dataSourceOptions(url, 4));
    await db.initialize();
    const cipher = new SecretCipher(env);
    store = new TokenStore(db, cipher);
    metrics = new BrokerMetrics();
    audit = new AuditLog(db.getRepository(AuditEventEntity), metrics);
    integrations = new IntegrationsService(
      db.getRepository(IntegrationEntity),
      db.getRepository(ConnectionEntity),
      cipher,
      env,
      audit,
    );
    for (const kind of KINDS) {
      const provider = ROTATION_KIND_PROVIDERS[kind].provider;
      const base = provider === 'bloomerang' ? '/bloomerang/v2/oauth' : `/${provider}`;
      const client =
        provider === 'bloomerang'
          ? {
              clientId: SANDBOX_CLIENTS.bloomerang.clientId,
              clientSecret: SANDBOX_CLIENTS.bloomerang.clientSecret,
            }
          : profileClient({ id: provider });
      const created = await integrations.create(
        {
          key: `model-${kind.replace('_', '')}`,
          provider,
          ...client,
          ...(provider === 'hubspot' ? { scopes: ['crm.objects.contacts.read'] } : {}),
          authorizationUrl: `${server.baseUrl}/${provider === 'bloomerang' ? 'bloomerang/Authorize' : `${provider}/authorize`}`,
          tokenUrl: `${server.baseUrl}${base}/token`,
        } as Parameters<IntegrationsService['create']>[0],
        'model',
      );
      const [row] = await db.query('SELECT id FROM integrations WHERE key = $1', [created.key]);
      integrationIds.set(kind, row.id);
    }
  }, 60_000);

  afterAll(async () => {
    for (const replica of replicas) await stopReplica(replica).catch(() => undefined);
    audit?.onApplicationShutdown();
    await db?.destroy();
    await server?.sandbox.close();
    const admin = new Client({ connectionString: ADMIN_URL });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  /** A fresh connection, authorized at the sandbox under an account of its own, on a fresh replica. */
  async function setup(kind: RotationKind): Promise<{ model: Model; real: Real }> {
    const account = `model-${randomUUID().slice(0, 8)}`;
    const connectionId = randomUUID();
    await db.query(
      `INSERT INTO connections (id, key, integration_id, status) VALUES ($1, $2, $3, 'pending_authorization')`,
      [connectionId, account, integrationIds.get(kind)],
    );
    const answer = (await authorizeKind(server, kind, account)).json<Record<string, string | number>>();
    const tokens: TokenSet = {
      accessToken: String(answer.access_token),
      tokenType: 'Bearer',
      expiresIn: Number(answer.expires_in),
      scope: answer.scope === undefined ? undefined : String(answer.scope),
      refreshToken: String(answer.refresh_token),
      expiresInDefaulted: false,
    };
    const replica = await startReplica();
    const runtime = await integrations.runtimeById(integrationIds.get(kind)!);
    await replica.refresher.storeAuthorized(runtime, (await store.findById(connectionId))!, tokens);
    return { model: { kind, log: [] }, real: { replica, connectionId, account } };
  }

  /** Runs a refresh and swallows its failure: the invariant, not the answer, is what is checked. */
  async function attempt(real: Real, run: (refresher: TokenRefresher) => Promise<unknown>): Promise<void> {
    await run(real.replica.refresher).catch(() => undefined);
  }

  async function checkInvariant(model: Model, real: Real): Promise<void> {
    const { kind } = model;
    const provider = ROTATION_KIND_PROVIDERS[kind].provider;
    const reuses = server.sandbox.refreshTokenReuses({ account: real.account });
    const context = `${kind}: ${model.log.join(' → ')}`;
    expect({ context, refused: reuses.filter((reuse) => reuse.refused) }).toEqual({ context, refused: [] });
    if (kind === 'single_use') expect({ context, reuses }).toEqual({ context, reuses: [] });
    if (kind === 'grace') {
      expect({ context, outsideGrace: reuses.filter((reuse) => !reuse.inGrace) }).toEqual({
        context,
        outsideGrace: [],
      });
    }
    let row = (await store.findById(real.connectionId))!;
    let state = row.refreshToken
      ? server.sandbox.refreshTokenState(provider, store.open(row).refreshToken!)
      : 'unknown';
    const met = model.fault !== undefined && server.sandbox.settings().faultRules.length === 0;
    if (met && DELIVERED.has(model.fault!) && kind !== 'none') {
      // The rotated refresh token came in a 200 the broker rejects: it must be the one kept.
      expect({ context, state }).toEqual({ context, state: 'unspent' });
    }
    if (met) model.fault = undefined;
    if (kind === 'single_use' && state === 'spent' && row.status !== 'needs_reauthorization') {
      // The answer to a processed request was lost: the next holder must find out without sending it again.
      await attempt(real, (refresher) =>
        refresher.refresh(real.connectionId, { reason: 'admin', force: true, minValiditySeconds: 0 }),
      );
      row = (await store.findById(real.connectionId))!;
      state = row.refreshToken
        ? server.sandbox.refreshTokenState(provider, store.open(row).refreshToken!)
        : 'unknown';
      expect({ context, reuses: server.sandbox.refreshTokenReuses({ account: real.account }) }).toEqual({
        context,
        reuses: [],
      });
    }
    if (row.status === 'needs_reauthorization') {
      expect({ context, kind, lastError: `${row.lastErrorCode ?? ''} ${row.lastError ?? ''}` }).toEqual({
        context,
        kind: 'single_use',
        lastError: expect.stringContaining('refresh_outcome_unknown'),
      });
      return;
    }
    // Nothing forgotten: the provider still takes the refresh token the broker keeps.
    const kept = kind === 'single_use' ? ['unspent'] : ['unspent', 'spent'];
    expect({ context, state, kept: kept.includes(state) }).toEqual({ context, state, kept: true });
  }

  const command = (
    label: string,
    run: (model: Model, real: Real) => Promise<void>,
  ): fc.AsyncCommand<Model, Real> => ({
    check: () => true,
    run: async (model, real) => {
      model.log.push(label);
      await run(model, real);
      await checkInvariant(model, real);
    },
    toString: () => label,
  });

  const commands = [
    fc.constant(
      command('read', (_, real) =>
        attempt(real, (refresher) =>
          refresher.refresh(real.connectionId, { reason: 'on_demand', minValiditySeconds: 60 }),
        ),
      ),
    ),
    fc.constant(
      command('forced refresh', (_, real) =>
        attempt(real, (refresher) =>
          refresher.refresh(real.connectionId, { reason: 'admin', force: true, minValiditySeconds: 0 }),
        ),
      ),
    ),
    fc.constant(
      command('scheduled refresh', async (_, real) => {
        const row = await store.findById(real.connectionId);
        await attempt(real, (refresher) =>
          refresher.refresh(real.connectionId, {
            reason: 'scheduled',
            minValiditySeconds: 0,
            expectedVersion: row?.tokenVersion,
          }),
        );
      }),
    ),
    fc.constant(
      command('crash', async (_, real) => {
        const dead = real.replica;
        real.replica = await startReplica();
        await stopReplica(dead);
      }),
    ),
    fc.constantFrom(...ANSWER_VARIANTS).map((fault) =>
      command(`next answer ${fault}`, async (model, real) => {
        model.fault = fault;
        server.sandbox.configure({ faultRules: [{ fault, account: real.account, count: 1 }] });
      }),
    ),
    fc.constant(
      command('clock advance (the token expires)', async (_, real) => {
        await db.query(`UPDATE connections SET expires_at = now() - interval '1 second' WHERE id = $1`, [
          real.connectionId,
        ]);
        real.replica.cache.evictById(real.connectionId);
      }),
    ),
  ];

  it.each(KINDS)(
    '%s: no refresh token sent twice against its rule, none the provider gave forgotten',
    async (kind) => {
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS }), async (cmds) => {
          const { model, real } = await setup(kind);
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
          } finally {
            server.sandbox.configure({ faultRules: [] });
          }
        }),
        { numRuns: RUNS, endOnFailure: true },
      );
    },
    50_000,
  );
});
