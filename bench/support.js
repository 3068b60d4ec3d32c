// Process and database helpers shared by bench/run.js and bench/chaos.js.
const autocannon = require('autocannon');
const { execFileSync, fork, spawn } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { closeSync, mkdtempSync, openSync, readFileSync, rmSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('pg');

const ROOT = path.resolve(__dirname, '..');
// BENCH_BROKER_MAIN points the bench at another build (e.g. a copy of dist/ from another commit, kept
// inside the repository so that it finds node_modules) for an A/B comparison.
const BROKER_MAIN = process.env.BENCH_BROKER_MAIN
  ? path.resolve(process.env.BENCH_BROKER_MAIN)
  : path.join(ROOT, 'dist/apps/broker/src/main.js');
const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef0123456789';
const ENCRYPTION_KEYS = `k1:${Buffer.alloc(32, 9).toString('base64')}`;

// Spawned processes get an environment built from scratch and an empty working directory, so a
// `.env` that `npm run first-look` left in the repository (or anything exported) never reaches them.
const CHILD_CWD = mkdtempSync(path.join(os.tmpdir(), 'broker-bench-cwd-'));
process.once('exit', () => rmSync(CHILD_CWD, { recursive: true, force: true }));
const baseEnv = () => ({ PATH: process.env.PATH, HOME: process.env.HOME });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function createDatabase(label) {
  const name = `broker_bench_${label}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    async drop() {
      const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

async function sql(url, text, params = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

async function waitReady(url, child, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} not ready`);
    await sleep(20);
  }
}

/** Starts a built broker; resolves when /health/ready answers, with how long that took. */
async function startBroker(env, nodeArgs = [], main = BROKER_MAIN) {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const started = process.hrtime.bigint();
  // BENCH_BROKER_LOG=<file>: the broker's own log (pino, on stdout) appended there, to read after a run.
  const logTo = process.env.BENCH_BROKER_LOG ? openSync(process.env.BENCH_BROKER_LOG, 'a') : 'ignore';
  // BENCH_BROKER_NODE_ARGS: extra node flags for every broker the bench starts (e.g. --cpu-prof).
  const extraArgs = (process.env.BENCH_BROKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...extraArgs, ...nodeArgs, main], {
    cwd: CHILD_CWD,
    env: {
      ...baseEnv(),
      LOG_LEVEL: 'warn',
      BROKER_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
      BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
      BROKER_HOST: '127.0.0.1',
      // The bench's provider sandbox listens on loopback.
      BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS: 'true',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', logTo, 'inherit'],
  });
  if (typeof logTo === 'number') closeSync(logTo);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child);
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    url,
    port,
    child,
    readyMs,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** Starts a bench/reference-*.js server in its own process. */
async function startReference(file, apiKey) {
  const port = await freePort();
  const child = fork(path.join(__dirname, file), [String(port), apiKey], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  await new Promise((resolve) => child.once('message', resolve));
  return { url: `http://127.0.0.1:${port}`, child, stop: () => child.kill('SIGTERM') };
}

async function adminCall(url, method, route, body) {
  const response = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A Bloomerang integration on the sandbox. */
function createBloomerangIntegration(brokerUrl, sandboxUrl, key = 'bloomerang') {
  return adminCall(brokerUrl, 'POST', '/admin/integrations', {
    key,
    provider: 'bloomerang',
    clientId: 'sandbox-bloomerang',
    clientSecret: 'sandbox-bloomerang-secret',
    authorizationUrl: `${sandboxUrl}/bloomerang/Authorize`,
    tokenUrl: `${sandboxUrl}/bloomerang/v2/oauth/token`,
  });
}

/** A Bloom (v2) integration on the sandbox. */
function createBloomIntegration(brokerUrl, sandboxUrl, key = 'bloom') {
  return adminCall(brokerUrl, 'POST', '/admin/integrations', {
    key,
    provider: 'bloom',
    clientId: 'sandbox-bloom',
    clientSecret: 'sandbox-bloom-secret',
    audience: 'dev-api.bloom.dev',
    scopes: ['data-access:all'],
    tokenUrl: `${sandboxUrl}/bloom/oauth2/token`,
  });
}

/** Creates a connection and approves it on the sandbox, following the redirect to the broker's callback. */
async function connectAuthorized(brokerUrl, integration, key) {
  const created = await adminCall(brokerUrl, 'POST', '/admin/connections', { key, integration });
  const approve = await fetch(`${created.authorizationUrl}&sandbox_decision=approve`, { redirect: 'manual' });
  const callback = new URL(approve.headers.get('location'));
  await fetch(`${brokerUrl}${callback.pathname}${callback.search}`);
}

/** CPU seconds (user + system) and RSS in MB of a process, from /proc. */
function processUsage(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  return { cpuSeconds: ticks / 100, rssMb: rssKb / 1024 };
}

/**
 * CPU seconds of the whole machine so far (all cores), from /proc/stat: `busySeconds` counts the
 * time processes run (user, nice, system), leaving out interrupts, which no process is charged
 * for (the loopback traffic of a measurement is mostly softirq time).
 */
function machineCpu() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, n) => sum + n, 0);
  return { busySeconds: (fields[0] + fields[1] + fields[2]) / 100, totalSeconds: total / 100 };
}

/**
 * Runs `work` and reports how much of the machine's CPU went meanwhile to processes other than
 * `pids` and this one (the load generator), in % of all cores: other people's work, which skews
 * a measurement.
 */
async function withForeignCpu(pids, work) {
  const own = () => [process.pid, ...pids].reduce((sum, pid) => sum + processUsage(pid).cpuSeconds, 0);
  const machineBefore = machineCpu();
  const ownBefore = own();
  const result = await work();
  const machineAfter = machineCpu();
  const busy = machineAfter.busySeconds - machineBefore.busySeconds;
  const total = machineAfter.totalSeconds - machineBefore.totalSeconds;
  const foreign = Math.max(0, busy - (own() - ownBefore));
  return { result, foreignCpuPercent: total > 0 ? (100 * foreign) / total : 0 };
}

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const median = (values) => percentile(values, 50);

/** A measure over rounds: its median, its spread, and every round's value. */
function spread(values) {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), rounds: values };
}

/**
 * Round length, number of rounds and warm-up of a load section, in seconds: the section's defaults
 * unless BENCH_SECONDS, BENCH_ROUNDS or BENCH_WARMUP_SECONDS say otherwise.
 */
function roundSettings(defaults) {
  return {
    roundSeconds: Number(process.env.BENCH_SECONDS || defaults.roundSeconds),
    rounds: Number(process.env.BENCH_ROUNDS || defaults.rounds),
    warmupSeconds: Number(process.env.BENCH_WARMUP_SECONDS || defaults.warmupSeconds),
  };
}

/** A figure for the table: `digits` decimals, a dash when there is none. */
const fmt = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n) ? '—' : Number(n).toFixed(digits);
/** A spread as `median [min–max]`. */
const range = (s, digits = 2) => `${fmt(s.median, digits)} [${fmt(s.min, digits)}–${fmt(s.max, digits)}]`;
/** The last column of a table row with a target. */
const mark = (ok) => (ok ? 'met' : 'NOT MET');

/**
 * The sandbox in its own process, so that its simulated upstream latency is not stretched by the
 * load generator sharing its event loop. `stats()` and `configure()` go over its control API.
 */
async function startSandboxProcess(env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist/apps/sandbox/src/main.js')], {
    cwd: CHILD_CWD,
    env: { ...baseEnv(), SANDBOX_PORT: String(port), SANDBOX_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/_sandbox/stats`)).ok) break;
    } catch {
      if (i > 200) throw new Error('sandbox did not start');
    }
    await sleep(25);
  }
  return {
    url,
    stats: async () => (await fetch(`${url}/_sandbox/stats`)).json(),
    configure: async (patch) => {
      await fetch(`${url}/_sandbox/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
    },
    close: () => child.kill('SIGTERM'),
  };
}

/** Empties one Redis database (the bench uses 11 to 15, apart from the tests' databases). */
async function flushRedis(redisUrl) {
  const { Redis } = require('ioredis');
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  await redis.flushdb();
  redis.disconnect();
}

/** The value of one Prometheus sample (`name{labels} value`), summed over lines that contain every filter. */
function metricValue(text, name, ...filters) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (filters.every((filter) => line.includes(filter)))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function loadSandbox() {
  return require(path.join(ROOT, 'dist/apps/sandbox/src/sandbox.js'));
}

/**
 * The token-path load every speed section uses: `GET /tokens/credit` for `seconds` over 50
 * keep-alive connections, one request in flight on each, with `credential` as the bearer.
 */
function tokenLoad(url, credential, seconds) {
  return autocannon({
    url: `${url}/tokens/credit`,
    connections: 50,
    pipelining: 1,
    duration: seconds,
    headers: { authorization: `Bearer ${credential}` },
  });
}

/**
 * Load generator and servers on cores of their own: this process (autocannon) on the first CPU,
 * every thread of each measured server on the last, so that no round depends on where the kernel
 * happened to run the server. `BENCH_PIN=0` turns it off; with one CPU there is nothing to pin. Pinning uses
 * `taskset` (util-linux) and fails loudly without it, rather than measuring something else.
 */
function cpuPinning() {
  const cpus = os.availableParallelism();
  if (process.env.BENCH_PIN === '0' || cpus < 2) {
    return { description: 'not pinned', pinServer: () => undefined, release: () => undefined };
  }
  const serverCpu = String(cpus - 1);
  const pin = (pid, cpu) =>
    execFileSync('taskset', ['-a', '-p', '-c', cpu, String(pid)], { stdio: 'ignore' });
  pin(process.pid, '0');
  return {
    description: `load generator on CPU 0, each server on CPU ${serverCpu}`,
    pinServer: (pid) => pin(pid, serverCpu),
    /** This process back on every CPU, for the sections that follow. */
    release: () => pin(process.pid, `0-${cpus - 1}`),
  };
}

module.exports = {
  cpuPinning,
  fmt,
  mark,
  range,
  roundSettings,
  spread,
  tokenLoad,
  ADMIN_TOKEN,
  connectAuthorized,
  createBloomIntegration,
  createBloomerangIntegration,
  ENCRYPTION_KEYS,
  adminCall,
  createDatabase,
  flushRedis,
  machineCpu,
  metricValue,
  withForeignCpu,
  freePort,
  loadSandbox,
  median,
  percentile,
  processUsage,
  sleep,
  sql,
  startBroker,
  startReference,
  startSandboxProcess,
};
