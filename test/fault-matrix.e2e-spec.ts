import {
  createSandbox,
  profileClient,
  SANDBOX_CLIENTS,
  type FaultRule,
  type RefreshTokenReuse,
  type Sandbox,
  type TokenRequestHold,
} from '../apps/sandbox/src/sandbox';
import { ROTATION_KIND_PROVIDERS, type RotationKind } from '../apps/sandbox/src/testing';
import { BrokerProcess, freePort, sleep, startBroker } from './support/broker-process';
import { admin, getToken, request } from './support/http';
import { authorizeAtSandbox, createApiKey } from './support/provider-flows';
import { startOwnRedis, type OwnRedis } from './support/redis-server';
import { TcpProxy } from './support/tcp-proxy';
import { createTestDatabase } from './support/test-database';

/**
 * The fault matrix: every provider fault against every rotation rule, with no crash, with the refresh
 * holder SIGKILLed before and after its request reached the provider, and with Postgres cut while the
 * provider's answer comes back. Per cell: the refresh tokens presented twice (the sandbox counts them),
 * the connections lost, and that callers are answered while a valid token exists.
 *
 * Cells of one crash column run at once, each on its own connection (its own sandbox account, so its
 * fault and hold touch nobody else's), against shared brokers: A (the holder that gets killed), B (the
 * replica that takes over and serves) and C (whose Postgres goes through a proxy the test cuts).
 * docs/fault-matrix.md has the table this checks.
 */

const KINDS = Object.keys(ROTATION_KIND_PROVIDERS) as RotationKind[];

const FAULTS = [
  'none',
  'lostAnswer',
  'slowAnswer',
  'errorAfterProcessing',
  'zeroExpiresIn',
  'overflowingExpiresIn',
  'arrayScope',
  'nonBearerTokenType',
  'rateLimited',
  'refused',
] as const;
type MatrixFault = (typeof FAULTS)[number];

const CRASHES = ['none', 'killBeforeSend', 'killAfterSend', 'postgresCutAtWrite'] as const;
type Crash = (typeof CRASHES)[number];

/** Faults after which the broker cannot know whether the provider processed its request (it did). */
const OUTCOME_UNKNOWN: ReadonlySet<MatrixFault> = new Set([
  'lostAnswer',
  'slowAnswer',
  'errorAfterProcessing',
]);

interface Expected {
  /** The connection ends `needs_reauthorization` with `refresh_outcome_unknown`. */
  readonly lost: boolean;
  /** Refresh tokens the provider saw twice (each accepted by its rule). */
  readonly reuses: number;
  /** Of those, inside a grace window. */
  readonly inGrace: number;
}

/**
 * What each cell must show. A crash after the send leaves an outcome the next holder cannot know (the
 * provider processed it); a crash before the send too, as far as the next holder can tell (the record
 * says a request may have gone). Then the fault meets the next request sent. `single_use` never sends
 * again after an unknown outcome: the connection is given up instead. `rotating` and `grace` send the
 * same refresh token again, once per processed request whose answer was lost: their rules accept it.
 */
function expectedOf(kind: RotationKind, fault: MatrixFault, crash: Crash): Expected {
  const crashUnknown = crash === 'killBeforeSend' || crash === 'killAfterSend';
  if (kind === 'single_use') {
    return { lost: crashUnknown || OUTCOME_UNKNOWN.has(fault), reuses: 0, inGrace: 0 };
  }
  const processedUnknown = (crash === 'killAfterSend' ? 1 : 0) + (OUTCOME_UNKNOWN.has(fault) ? 1 : 0);
  const reuses = kind === 'none' ? 0 : processedUnknown;
  return { lost: false, reuses, inGrace: kind === 'grace' ? reuses : 0 };
}

interface Cell {
  readonly kind: RotationKind;
  readonly fault: MatrixFault;
  readonly crash: Crash;
  /** The connection key, also its sandbox account. */
  readonly key: string;
}

const CRASH_LABEL: Record<Crash, string> = {
  none: 'nocrash',
  killBeforeSend: 'killbefore',
  killAfterSend: 'killafter',
  postgresCutAtWrite: 'pgcut',
};

const cellsOf = (crash: Crash): Cell[] =>
  KINDS.flatMap((kind) =>
    FAULTS.map((fault) => ({
      kind,
      fault,
      crash,
      key: `fm-${CRASH_LABEL[crash]}-${kind.replace('_', '')}-${fault.toLowerCase()}`,
    })),
  );

interface Observed {
  t0?: string;
  /** Reads made while the fault or crash was in play: their status, and whether the provider took the token. */
  readonly reads: { what: string; status: number; accepted: boolean }[];
  status?: string;
  lastError?: string;
  /** After the cell settled: the token a read answered and whether the provider takes it. */
  finalToken?: string;
  finalAccepted?: boolean;
  reuses?: RefreshTokenReuse[];
  problem?: string;
}

const LEASE_SECONDS = 15;
const PROVIDER_TIMEOUT_MS = 3_000;
/** Long enough for a dead holder's lease to run out and the next read to settle the cell. */
const SETTLE_MS = (LEASE_SECONDS + 25) * 1000;
const FORCE = 86_400;

describe('fault matrix: every provider fault × every rotation rule × no crash, SIGKILL before/after the send, Postgres cut at the write', () => {
  let sandbox: Sandbox;
  let sandboxUrl: string;
  let redis: OwnRedis;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let postgres: TcpProxy;
  /** In front of the sandbox for the `refused` cells' integrations: cut, it refuses connections. */
  let gate: TcpProxy;
  let brokerEnv: Record<string, string>;
  let a: BrokerProcess;
  let b: BrokerProcess;
  let c: BrokerProcess;
  let apiKey: string;
  const observed = new Map<string, Observed>();

  const providerOf = (kind: RotationKind) => ROTATION_KIND_PROVIDERS[kind].provider;
  const integrationOf = (cell: Cell) =>
    `fm-${cell.kind.replace('_', '')}${cell.fault === 'refused' ? '-gated' : ''}`;

  async function createIntegration(kind: RotationKind, gated: boolean): Promise<void> {
    const key = `fm-${kind.replace('_', '')}${gated ? '-gated' : ''}`;
    const tokenBase = gated ? `http://127.0.0.1:${gate.port}` : sandboxUrl;
    const provider = providerOf(kind);
    const body =
      provider === 'bloomerang'
        ? {
            key,
            provider,
            clientId: SANDBOX_CLIENTS.bloomerang.clientId,
            clientSecret: SANDBOX_CLIENTS.bloomerang.clientSecret,
            authorizationUrl: `${sandboxUrl}/bloomerang/Authorize`,
            tokenUrl: `${tokenBase}/bloomerang/v2/oauth/token`,
          }
        : {
            key,
            provider,
            ...profileClient({ id: provider }),
            ...(provider === 'hubspot' ? { scopes: ['crm.objects.contacts.read'] } : {}),
            authorizationUrl: `${sandboxUrl}/${provider}/authorize`,
            tokenUrl: `${tokenBase}/${provider}/token`,
          };
    const response = await admin(b.url).post('/admin/integrations', body);
    if (response.status !== 201) throw new Error(`integration ${key}: ${response.status} ${response.text}`);
  }

  async function connect(cell: Cell): Promise<void> {
    const created = await admin(b.url).post('/admin/connections', {
      key: cell.key,
      integration: integrationOf(cell),
    });
    if (created.status !== 201) throw new Error(`connection ${cell.key}: ${created.status} ${created.text}`);
    const callbackUrl = await authorizeAtSandbox(
      `${created.body.authorizationUrl}&sandbox_account=${cell.key}`,
      b.url,
    );
    const callback = await request(b.url, 'GET', callbackUrl.slice(b.url.length), { token: null });
    if (callback.status !== 200) throw new Error(`callback ${cell.key}: ${callback.status} ${callback.text}`);
  }

  async function providerAccepts(kind: RotationKind, accessToken: unknown): Promise<boolean> {
    if (typeof accessToken !== 'string') return false;
    const path = kind === 'single_use' ? '/bloomerang/v2/me' : `/${providerOf(kind)}/resource`;
    const response = await fetch(`${sandboxUrl}${path}`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    return response.status === 200;
  }

  /** A read, recorded as served or not; never throws. */
  async function read(
    broker: BrokerProcess,
    cell: Cell,
    what: string,
    minValidity?: number,
  ): Promise<string | undefined> {
    const record = observed.get(cell.key)!;
    try {
      const response = await getToken(broker.url, apiKey, cell.key, minValidity);
      const accepted =
        response.status === 200 && (await providerAccepts(cell.kind, response.body.accessToken));
      record.reads.push({ what, status: response.status, accepted });
      return response.status === 200 ? response.body.accessToken : undefined;
    } catch (error) {
      record.reads.push({ what: `${what}: ${(error as Error).message}`, status: 0, accepted: false });
      return undefined;
    }
  }

  /** The token every cell starts from, read (and so cached) on the broker that will serve it. */
  async function readFirstTokens(broker: BrokerProcess, cells: Cell[]): Promise<void> {
    await Promise.all(
      cells.map(async (cell) => {
        const response = await getToken(broker.url, apiKey, cell.key);
        observed.get(cell.key)!.t0 = response.body?.accessToken;
        if (response.status !== 200) observed.get(cell.key)!.problem = `first read: ${response.status}`;
      }),
    );
  }

  /** Each cell's fault, for the next request of its connection only. */
  function setFaults(cells: Cell[]): void {
    const rules: FaultRule[] = cells
      .filter((cell) => cell.fault !== 'none' && cell.fault !== 'refused')
      .map((cell) => ({ fault: cell.fault as FaultRule['fault'], account: cell.key, count: 1 }));
    sandbox.configure({ faultRules: rules });
  }

  /**
   * Holds each cell's next request at the provider and starts it from `broker`; resolves once all
   * arrived. The reads of a holder about to be killed are not recorded: a caller loses its answer with
   * the replica it asked, which is not a refusal to serve.
   */
  async function holdRequests(
    broker: BrokerProcess,
    cells: Cell[],
    stage: 'beforeProcessing' | 'afterProcessing',
    killed: boolean,
  ): Promise<{ holds: TokenRequestHold[]; reads: Promise<unknown>[] }> {
    const arrived = new Set<string>();
    const answered = new Map<string, string>();
    const holds = cells.map((cell) => {
      const hold = sandbox.hold({ account: cell.key, stage });
      void hold.arrived.then(() => arrived.add(cell.key));
      return hold;
    });
    const reads = cells.map((cell) =>
      killed
        ? getToken(broker.url, apiKey, cell.key, FORCE).then(
            (response) => answered.set(cell.key, `${response.status} ${response.text.slice(0, 200)}`),
            () => undefined,
          )
        : read(broker, cell, 'forced read on the holder', FORCE),
    );
    await within(Promise.all(holds.map((hold) => hold.arrived)), 30_000, 'held requests to arrive').catch(
      (error: Error) => {
        const missing = cells.filter((cell) => !arrived.has(cell.key));
        const details = missing.map((cell) => `${cell.key}: ${answered.get(cell.key) ?? 'no answer'}`);
        throw new Error(`${error.message}; ${missing.length} missing: ${details.slice(0, 5).join('; ')}`);
      },
    );
    return { holds, reads };
  }

  /** Drives a cell until it has settled, then records its end state. */
  async function settle(cell: Cell): Promise<void> {
    const record = observed.get(cell.key)!;
    const expected = expectedOf(cell.kind, cell.fault, cell.crash);
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const connection = (await admin(b.url).get(`/admin/connections/${cell.key}`)).body;
      record.status = connection.status;
      record.lastError = `${connection.lastErrorCode ?? ''} ${connection.lastError ?? ''}`.trim();
      if (connection.status === 'needs_reauthorization') {
        // Given up (rightly or not): a plain read must still answer the token that is left.
        const response = await getToken(b.url, apiKey, cell.key);
        record.finalToken = response.status === 200 ? response.body.accessToken : `HTTP ${response.status}`;
        record.finalAccepted = await providerAccepts(cell.kind, response.body?.accessToken);
        break;
      }
      if (!expected.lost && connection.status === 'active') {
        const response = await getToken(b.url, apiKey, cell.key, FORCE);
        if (response.status === 200 && response.body.accessToken !== record.t0) {
          record.finalToken = response.body.accessToken;
          record.finalAccepted = await providerAccepts(cell.kind, response.body.accessToken);
          break;
        }
      } else {
        // Asks for a refresh, which is what makes the broker decide about an unknown outcome.
        await getToken(b.url, apiKey, cell.key, FORCE).catch(() => undefined);
      }
      if (Date.now() > deadline) {
        record.problem ??= `did not settle within ${SETTLE_MS} ms`;
        break;
      }
      await sleep(500);
    }
    record.reuses = sandbox.refreshTokenReuses({ account: cell.key });
  }

  beforeAll(async () => {
    const started = Date.now();
    sandbox = createSandbox({ autoApprove: true });
    sandboxUrl = await sandbox.listen(0);
    const sandboxPort = Number(new URL(sandboxUrl).port);
    gate = new TcpProxy(sandboxPort);
    await gate.start();
    postgres = new TcpProxy(5432);
    await postgres.start();
    [redis, db] = await Promise.all([startOwnRedis(), createTestDatabase('faultmatrix')]);
    const portB = await freePort();
    brokerEnv = {
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      BROKER_PUBLIC_URL: `http://127.0.0.1:${portB}`,
      BROKER_REFRESH_LEASE_SECONDS: String(LEASE_SECONDS),
      BROKER_PROVIDER_TIMEOUT_MS: String(PROVIDER_TIMEOUT_MS),
      // Every cell of an integration has its request at the provider at once.
      BROKER_INTEGRATION_CONCURRENCY: '50',
      BROKER_RECONCILE_INTERVAL_SECONDS: '5',
    };
    b = await startBroker({ ...brokerEnv, PORT: String(portB) });
    [a, c] = await Promise.all([
      startBroker(brokerEnv),
      startBroker({ ...brokerEnv, DATABASE_URL: db.url.replace(':5432/', `:${postgres.port}/`) }),
    ]);
    for (const kind of KINDS) {
      await createIntegration(kind, false);
      await createIntegration(kind, true);
    }
    apiKey = await createApiKey(b.url);
    const cells = CRASHES.flatMap(cellsOf);
    for (const cell of cells) observed.set(cell.key, { reads: [] });
    await inBatches(cells, 16, connect);
    console.log(`fault matrix: ${cells.length} connections ready in ${Date.now() - started} ms`);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([a?.stop(), b?.stop(), c?.stop()]);
    await sandbox?.close();
    await gate?.cut();
    await postgres?.cut();
    await redis?.stop();
    await db?.drop();
  });

  describe.each(CRASHES)('crash: %s', (crash) => {
    const cells = cellsOf(crash);

    beforeAll(async () => {
      const started = Date.now();
      const refused = cells.filter((cell) => cell.fault === 'refused');
      try {
        if (crash === 'none') {
          await readFirstTokens(b, cells);
          setFaults(cells);
          await gate.cut();
          await Promise.all(cells.map((cell) => read(b, cell, 'forced read meeting the fault', FORCE)));
          await gate.restore();
        } else if (crash === 'killBeforeSend' || crash === 'killAfterSend') {
          await readFirstTokens(b, cells);
          const stage = crash === 'killBeforeSend' ? 'beforeProcessing' : 'afterProcessing';
          const { holds } = await holdRequests(a, cells, stage, true);
          await a.stop('SIGKILL');
          for (const hold of holds) hold.drop();
          await Promise.all(cells.map((cell) => read(b, cell, 'plain read after the kill')));
          setFaults(cells);
          await gate.cut();
          await Promise.all(cells.map((cell) => read(b, cell, 'forced read on the next replica', FORCE)));
          await gate.restore();
          const restarted = startBroker({ ...brokerEnv, PORT: String(a.port) });
          await Promise.all(cells.map(settle));
          a = await restarted;
        } else {
          await readFirstTokens(c, cells);
          const sent = cells.filter((cell) => cell.fault !== 'refused');
          const { holds, reads } = await holdRequests(c, sent, 'beforeProcessing', false);
          await postgres.cut();
          setFaults(cells);
          await gate.cut();
          const refusedReads = refused.map((cell) => read(c, cell, 'forced read, Postgres down', FORCE));
          for (const hold of holds) hold.release();
          await Promise.all([...reads, ...refusedReads]);
          await Promise.all(cells.map((cell) => read(c, cell, 'plain read, Postgres down')));
          await postgres.restore();
          await gate.restore();
        }
        if (crash === 'none' || crash === 'postgresCutAtWrite') await Promise.all(cells.map(settle));
      } catch (error) {
        for (const cell of cells)
          observed.get(cell.key)!.problem ??= `phase failed: ${(error as Error).message}`;
      } finally {
        sandbox.configure({ faultRules: [] });
        await gate.restore();
        await postgres.restore();
      }
      console.log(`fault matrix, crash ${crash}: ${cells.length} cells in ${Date.now() - started} ms`);
    }, 150_000);

    const check = async (kind: RotationKind, fault: MatrixFault, cell: Cell) => {
      const expected = expectedOf(kind, fault, crash);
      const record = observed.get(cell.key)!;
      const reuses = record.reuses ?? [];
      expect({
        problem: record.problem,
        // Callers are served while a valid token exists: every read answered a token the provider takes.
        unserved: record.reads.filter((entry) => entry.status !== 200 || !entry.accepted),
        lost: record.status === 'needs_reauthorization',
        reuses: reuses.length,
        refusedReuses: reuses.filter((reuse) => reuse.refused).length,
        inGrace: reuses.filter((reuse) => reuse.inGrace).length,
        finalAccepted: record.finalAccepted,
      }).toEqual({
        problem: undefined,
        unserved: [],
        lost: expected.lost,
        reuses: expected.reuses,
        refusedReuses: 0,
        inGrace: expected.inGrace,
        finalAccepted: true,
      });
      if (expected.lost) {
        expect(record.lastError).toContain('refresh_outcome_unknown');
        // Given up without sending again: the token left is the first one, still served.
        expect(record.finalToken).toBe(record.t0);
      } else {
        expect(record.status).toBe('active');
        expect(record.finalToken).not.toBe(record.t0);
      }
    };
    it.each(cells.map((cell) => [cell.kind, cell.fault, cell] as const))('%s provider, %s', check);
  });
});

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<void>,
): Promise<void> {
  for (let index = 0; index < items.length; index += size) {
    await Promise.all(items.slice(index, index + size).map(run));
  }
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
