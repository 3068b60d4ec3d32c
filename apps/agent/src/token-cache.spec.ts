import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AgentMetrics } from './agent-metrics';
import { BrokerApi } from './broker-api';
import { BrokerClient } from './broker-client';
import { CredentialSource } from './credential';
import { Readiness } from './readiness';
import { Answer, TokenCache } from './token-cache';

interface Call {
  key: string;
  minValidity: number;
  credential: string;
}

/**
 * A local HTTP server in the broker's place, answering `GET /tokens/:key` the broker's way:
 * tokens of `lifetimeSeconds`, a fresh one whenever the current one lacks the asked minValidity.
 */
class BrokerStandIn {
  readonly calls: Call[] = [];
  lifetimeSeconds = 60;
  latencyMs = 0;
  acceptedCredential = 'good-credential';
  denials = new Map<string, { status: number; error: string }>();
  private readonly current = new Map<string, { token: string; expiresAtMs: number }>();
  private issued = 0;
  private server: Server | null = null;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url!, 'http://stand-in');
      const key = url.pathname.slice('/tokens/'.length);
      const minValidity = Number(url.searchParams.get('minValidity'));
      const credential = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      this.calls.push({ key, minValidity, credential });
      const reply = (status: number, body: object) =>
        setTimeout(() => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        }, this.latencyMs);
      if (credential !== this.acceptedCredential) {
        return reply(401, {
          statusCode: 401,
          error: 'unauthorized',
          message: 'unknown API key or ServiceAccount token',
        });
      }
      const denial = this.denials.get(key);
      if (denial)
        return reply(denial.status, {
          statusCode: denial.status,
          error: denial.error,
          message: `no: ${key}`,
        });
      let token = this.current.get(key);
      if (!token || token.expiresAtMs - Date.now() < minValidity * 1000) {
        token = { token: `token-${++this.issued}`, expiresAtMs: Date.now() + this.lifetimeSeconds * 1000 };
        this.current.set(key, token);
      }
      reply(200, {
        accessToken: token.token,
        tokenType: 'Bearer',
        expiresAt: new Date(token.expiresAtMs).toISOString(),
        expiresIn: Math.floor((token.expiresAtMs - Date.now()) / 1000),
        scope: null,
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  }

  callsFor(key: string): Call[] {
    return this.calls.filter((call) => call.key === key);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TokenCache (the agent cache rules, against a local broker stand-in)', () => {
  let broker: BrokerStandIn;
  let dir: string;
  let tokenFile: string;
  let metrics: AgentMetrics;
  let client: BrokerClient;
  let cache: TokenCache;
  let api: BrokerApi;

  const counter = async (name: string, labels: Record<string, string> = {}) => {
    const metric = await metrics.registry.getSingleMetric(name)!.get();
    return metric.values
      .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
      .reduce((sum, value) => sum + value.value, 0);
  };
  const tokenOf = (answer: Answer) => {
    if (answer.kind !== 'token') throw new Error(`expected a token, got ${answer.status} ${answer.body}`);
    return answer.token;
  };

  beforeEach(async () => {
    broker = new BrokerStandIn();
    await broker.start();
    dir = mkdtempSync(join(tmpdir(), 'agent-cache-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'good-credential\n');
    metrics = new AgentMetrics();
    const logger = pino({ level: 'silent' });
    client = new BrokerClient(new URL(broker.url), 2_000, 8);
    api = new BrokerApi(client, await CredentialSource.fromFile(tokenFile), metrics, logger);
    cache = new TokenCache(
      (key, minValidity, purpose) => api.fetchToken(key, minValidity, purpose),
      { negativeHoldMs: 400, forgetAfterMs: 60_000 },
      metrics,
      logger,
    );
    // Its verdicts only (the background check is not started): a refused credential is remembered.
    api.useVerdicts(
      new Readiness(
        () => api.currentCredential(),
        (credential) => api.whoAmI(credential),
        () => cache.clear(),
        metrics,
        logger,
      ),
    );
  });

  afterEach(async () => {
    cache.close();
    client.close();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('makes one broker call for concurrent misses, then answers from memory while minValidity is left', async () => {
    broker.latencyMs = 100;
    const answers = await Promise.all(Array.from({ length: 50 }, () => cache.get('c1', 60)));
    expect(broker.callsFor('c1')).toHaveLength(1);
    expect(new Set(answers.map((answer) => tokenOf(answer).accessToken))).toEqual(new Set(['token-1']));
    expect(tokenOf(await cache.get('c1', 30)).accessToken).toBe('token-1');
    expect(broker.callsFor('c1')).toHaveLength(1);
    expect(await counter('agent_cache_hits_total')).toBe(1);
    expect(await counter('agent_cache_misses_total')).toBe(50);
    // More validity than the cached token has left: asked of the broker, with that minValidity.
    const longer = tokenOf(await cache.get('c1', 3_599));
    expect(broker.callsFor('c1').map((call) => call.minValidity)).toEqual([60, 3_599]);
    expect(longer.accessToken).toBe('token-2');
  });

  it('stays within its bound when flooded with distinct keys, evicting the least recently read', async () => {
    cache.close();
    cache = new TokenCache(
      (key, minValidity, purpose) => api.fetchToken(key, minValidity, purpose),
      { negativeHoldMs: 400, forgetAfterMs: 60_000, maxConnections: 50 },
      metrics,
      pino({ level: 'silent' }),
    );
    // minValidity well inside the stand-in's 60 s tokens, so only an eviction could ask again.
    expect(tokenOf(await cache.get('kept', 10)).accessToken).toBe('token-1');
    for (let i = 0; i < 300; i++) {
      broker.denials.set(`flood-${i}`, { status: 404, error: 'not_found' });
      await cache.get(`flood-${i}`, 60);
      if (i % 10 === 0) await cache.get('kept', 10); // read often: never the least recently read
      expect(cache.size).toBeLessThanOrEqual(50);
    }
    expect(tokenOf(await cache.get('kept', 10)).accessToken).toBe('token-1');
    expect(broker.callsFor('kept')).toHaveLength(1);
  });

  it('forgets a key the broker does not know once its hold is over, not after forgetAfter', async () => {
    broker.denials.set('unknown', { status: 404, error: 'not_found' });
    await cache.get('unknown', 60);
    expect(cache.size).toBe(1);
    await sleep(450);
    cache.sweep();
    expect(cache.size).toBe(0);
  });

  it("holds the broker's 404 a few seconds, unchanged, then asks again", async () => {
    broker.denials.set('gone', { status: 404, error: 'not_found' });
    const first = await cache.get('gone', 60);
    const second = await cache.get('gone', 60);
    expect(first).toEqual({
      kind: 'error',
      status: 404,
      body: JSON.stringify({ statusCode: 404, error: 'not_found', message: 'no: gone' }),
    });
    expect(second).toEqual(first);
    expect(broker.callsFor('gone')).toHaveLength(1);
    expect(await counter('agent_negative_cache_hits_total')).toBe(1);
    await sleep(450);
    await cache.get('gone', 60);
    expect(broker.callsFor('gone')).toHaveLength(2);
  });

  it('does not loop when minValidity is longer than the tokens live: at most one ask per half lifetime', async () => {
    broker.lifetimeSeconds = 2;
    const until = Date.now() + 1_500;
    let reads = 0;
    while (Date.now() < until) {
      const token = tokenOf(await cache.get('short', 600));
      expect(token.expiresAtMs).toBeGreaterThan(Date.now());
      reads += 1;
      await sleep(25);
    }
    expect(reads).toBeGreaterThan(20);
    // The first ask at 0 s, one more once half the 2-second lifetime passed.
    expect(broker.callsFor('short').length).toBeLessThanOrEqual(2);
  });

  it('reads ahead before the token drops below the largest minValidity asked, so steady reads never miss', async () => {
    broker.lifetimeSeconds = 3;
    tokenOf(await cache.get('steady', 1));
    const seen = new Set<string>();
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      const token = tokenOf(await cache.get('steady', 1));
      expect(token.expiresAtMs - Date.now()).toBeGreaterThanOrEqual(1_000);
      seen.add(token.accessToken);
      await sleep(50);
    }
    expect(await counter('agent_cache_misses_total')).toBe(1);
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(await counter('agent_read_ahead_total', { result: 'ok' })).toBeGreaterThanOrEqual(2);
  });

  it('serves a cached token with minValidity left while the broker is unreachable; 503 without one', async () => {
    // An hour-long token really has the minValidity left, however long stopping the broker takes
    // (a 60 s token is only the broker's best for 60, and that holds for a moment only).
    broker.lifetimeSeconds = 3_600;
    const cached = tokenOf(await cache.get('kept', 60));
    await broker.stop();
    expect(tokenOf(await cache.get('kept', 60)).accessToken).toBe(cached.accessToken);
    const uncached = await cache.get('never-read', 60);
    expect(uncached.kind).toBe('error');
    if (uncached.kind !== 'error') return;
    expect(uncached.status).toBe(503);
    expect(JSON.parse(uncached.body)).toEqual({
      statusCode: 503,
      error: 'service_unavailable',
      message: expect.stringMatching(/unreachable/),
    });
  });

  it("answers 503 when the broker refuses the agent's credential, and uses the token file's new value", async () => {
    writeFileSync(tokenFile, 'revoked-credential\n');
    const refused = await cache.get('c1', 60);
    expect(refused.kind === 'error' && refused.status).toBe(503);
    expect(refused.kind === 'error' && JSON.parse(refused.body).message).toMatch(
      /refused the agent's credential/,
    );
    // The refused value is not shown to the broker again until it changes.
    const calls = broker.calls.length;
    expect((await cache.get('c1', 60)).kind).toBe('error');
    expect(broker.calls.length).toBe(calls);
    await sleep(20); // a different mtime, as the kubelet's swap gives
    writeFileSync(tokenFile, 'good-credential\n');
    expect(tokenOf(await cache.get('c1', 60)).accessToken).toBe('token-1');
    expect(broker.calls.at(-1)!.credential).toBe('good-credential');
  });
});
