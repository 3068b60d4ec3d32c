// Hot path: `GET /tokens/:connection` for a cached token, the broker against two references that
// answer the same JSON from memory behind a bearer check (bare Fastify, a minimal NestJS +
// Fastify app with one guard), for an API-key caller and for a ServiceAccount-token caller.
//
// Four targets, alternated A/B/C/D within every round (the starting target rotates from round to
// round), so that whatever else the shared machine does hits them alike; every ratio is computed
// per round and reported as median [min–max] over the rounds. The load generator and the servers
// run on cores of their own (support.js cpuPinning).
//
// Environment: BENCH_SECONDS (round length, 4), BENCH_ROUNDS (7), BENCH_WARMUP_SECONDS (5),
// BENCH_MAX_FOREIGN_CPU (% of the machine other processes may take during a round before the
// round is run again, 10), BENCH_CPU_PROF (a directory: the measured broker writes a V8 CPU
// profile there when it stops), BENCH_BROKER_MAIN (another build, support.js), BENCH_PIN=0 (no
// CPU pinning).
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  adminCall,
  createBloomIntegration,
  createDatabase,
  flushRedis,
  loadSandbox,
  median,
  metricValue,
  processUsage,
  startBroker,
  startReference,
  withForeignCpu,
  cpuPinning,
  tokenLoad,
  mark,
  range,
  roundSettings,
  spread,
  fmt,
} = require('./support');

const {
  roundSeconds: ROUND_SECONDS,
  rounds: ROUNDS,
  warmupSeconds: WARMUP_SECONDS,
} = roundSettings({ roundSeconds: 4, rounds: 7, warmupSeconds: 5 });
const MAX_FOREIGN_CPU = Number(process.env.BENCH_MAX_FOREIGN_CPU || 10);
/** Disturbed rounds run again at most this many times; then the least disturbed ones are used, flagged. */
const EXTRA_ROUNDS = 3;
const REDIS_URL = 'redis://127.0.0.1:6379/12';
/** What a sidecar runs: the token API only, no admin API, no migrations at start. */
const SIDECAR_ENV = { BROKER_ROLE: 'api', BROKER_ADMIN_API: 'false', BROKER_AUTO_MIGRATE: 'false' };
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';
const SA_AUDIENCE = 'token-broker';
const SA_SUBJECT = 'system:serviceaccount:bench:agent';

const TARGETS = ['fastify', 'nest', 'brokerApiKey', 'brokerSa'];
const LABELS = {
  fastify: 'bare Fastify',
  nest: 'minimal NestJS + guard',
  brokerApiKey: 'broker, API-key caller',
  brokerSa: 'broker, ServiceAccount caller',
};

const TARGETS_MET = {
  brokerToNest: 0.95,
  brokerToFastify: 0.6,
  saToApiKey: 0.95,
  p99Ms: 3,
};

/** A JWKS file and a signed projected ServiceAccount token, as the cluster would provide them. */
async function serviceAccountCredentials(dir) {
  const { SignJWT, exportJWK, generateKeyPair } = require('jose');
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: 'bench' })
    .setIssuer(SA_ISSUER)
    .setAudience(SA_AUDIENCE)
    .setSubject(SA_SUBJECT)
    .setIssuedAt()
    .setExpirationTime('2h')
    .sign(privateKey);
  return { jwksFile, token };
}

async function run() {
  const { createSandbox } = loadSandbox();
  const sandbox = createSandbox();
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('hot');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'broker-bench-'));
  await flushRedis(REDIS_URL);
  const sa = await serviceAccountCredentials(dir);
  const saEnv = {
    BROKER_SA_JWKS_FILE: sa.jwksFile,
    BROKER_SA_ISSUER: SA_ISSUER,
    BROKER_SA_AUDIENCE: SA_AUDIENCE,
  };
  // A setup broker migrates and creates the connection and both clients, then leaves; the
  // measured one runs exactly as a sidecar does.
  const setup = await startBroker({ DATABASE_URL: db.url, REDIS_URL, ...saEnv });
  let apiKey;
  try {
    await createBloomIntegration(setup.url, sandboxUrl);
    await adminCall(setup.url, 'POST', '/admin/connections', { key: 'credit', integration: 'bloom' });
    ({ apiKey } = await adminCall(setup.url, 'POST', '/admin/clients', {
      name: 'bench',
      connections: ['*'],
    }));
    await adminCall(setup.url, 'POST', '/admin/clients', {
      name: 'bench-agent',
      connections: ['*'],
      serviceAccount: 'bench/agent',
      apiKey: false,
    });
  } finally {
    await setup.stop();
  }
  const profile = process.env.BENCH_CPU_PROF
    ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`]
    : [];
  const broker = await startBroker({ DATABASE_URL: db.url, REDIS_URL, ...SIDECAR_ENV, ...saEnv }, profile);
  const fastify = await startReference('reference-fastify.js', apiKey);
  const nest = await startReference('reference-nest.js', apiKey);
  const pinning = cpuPinning();
  for (const server of [broker, fastify, nest]) pinning.pinServer(server.child.pid);
  const targets = {
    fastify: { url: fastify.url, credential: apiKey, pids: [fastify.child.pid] },
    nest: { url: nest.url, credential: apiKey, pids: [nest.child.pid] },
    brokerApiKey: { url: broker.url, credential: apiKey, pids: [broker.child.pid] },
    brokerSa: { url: broker.url, credential: sa.token, pids: [broker.child.pid] },
  };
  const rounds = [];
  const setAside = [];
  let brokerRequests;
  let cacheHits;
  let otherOutcomes;
  try {
    for (const name of ['brokerApiKey', 'brokerSa']) {
      const first = await fetch(`${broker.url}/tokens/credit`, {
        headers: { authorization: `Bearer ${targets[name].credential}` },
      });
      if (first.status !== 200) throw new Error(`${LABELS[name]}: first token read answered ${first.status}`);
    }
    // The first read fills the broker's cache from Postgres; every later one must be a cache hit.
    brokerRequests = 2;
    for (const name of TARGETS) {
      const warm = await tokenLoad(targets[name].url, targets[name].credential, WARMUP_SECONDS);
      if (name.startsWith('broker')) brokerRequests += warm.requests.total;
    }
    // A round in which other processes took more than MAX_FOREIGN_CPU % of the machine is set
    // aside and run again; all four targets of a round are kept or set aside together.
    let attempt = 0;
    while (rounds.length < ROUNDS && attempt < ROUNDS + EXTRA_ROUNDS) {
      const order = TARGETS.map((_, i) => TARGETS[(i + attempt) % TARGETS.length]);
      attempt += 1;
      const round = { attempt, targets: {} };
      for (const name of order) {
        const target = targets[name];
        const cpuBefore = processUsage(target.pids[0]).cpuSeconds;
        const { result, foreignCpuPercent } = await withForeignCpu(target.pids, () =>
          tokenLoad(target.url, target.credential, ROUND_SECONDS),
        );
        const cpuSeconds = processUsage(target.pids[0]).cpuSeconds - cpuBefore;
        if (name.startsWith('broker')) brokerRequests += result.requests.total;
        round.targets[name] = {
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          requests: result.requests.total,
          // CPU the server spent per answer: unlike req/s, hardly moved by how much of the
          // machine other processes take (a cross-check on disturbed rounds).
          cpuMicrosPerRequest: (1e6 * cpuSeconds) / Math.max(1, result.requests.total),
          non2xx: result.non2xx + result.errors + result.timeouts,
          foreignCpuPercent,
        };
        process.stdout.write(
          `  round ${attempt} ${LABELS[name].padEnd(30)} ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, other processes ${foreignCpuPercent.toFixed(1)}% CPU\n`,
        );
      }
      round.foreignCpuPercent = Math.max(...TARGETS.map((name) => round.targets[name].foreignCpuPercent));
      if (round.foreignCpuPercent > MAX_FOREIGN_CPU) {
        setAside.push(round);
        process.stdout.write(
          `  round ${attempt} set aside: other processes used ${round.foreignCpuPercent.toFixed(1)}% CPU\n`,
        );
      } else rounds.push(round);
    }
    setAside.sort((a, b) => a.foreignCpuPercent - b.foreignCpuPercent);
    let disturbedRoundsUsed = 0;
    while (rounds.length < ROUNDS && setAside.length) {
      const round = setAside.shift();
      round.disturbed = true;
      disturbedRoundsUsed += 1;
      rounds.push(round);
    }
    rounds.disturbedUsed = disturbedRoundsUsed;
    const metrics = await (await fetch(`${broker.url}/metrics`)).text();
    cacheHits = metricValue(metrics, 'broker_token_requests_total', 'outcome="cache_hit"');
    otherOutcomes = metricValue(metrics, 'broker_token_requests_total') - cacheHits;
  } finally {
    pinning.release();
    await broker.stop();
    fastify.stop();
    nest.stop();
    await sandbox.close();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return summarize(rounds, {
    cacheHits,
    otherOutcomes,
    brokerRequests,
    roundsSetAside: setAside.length,
    pinning: pinning.description,
  });
}

/** median, min and max of a list of per-round values. */

function summarize(rounds, extra) {
  const per = (name, field) => rounds.map((r) => r.targets[name][field]);
  const ratio = (a, b) => rounds.map((r) => r.targets[a].rps / r.targets[b].rps);
  const cpuRatio = (a, b) =>
    rounds.map((r) => r.targets[b].cpuMicrosPerRequest / r.targets[a].cpuMicrosPerRequest);
  const targets = Object.fromEntries(
    TARGETS.map((name) => [
      name,
      {
        rps: spread(per(name, 'rps')),
        cpuMicrosPerRequest: spread(per(name, 'cpuMicrosPerRequest')),
        p50: median(per(name, 'p50')),
        p99: spread(per(name, 'p99')),
        non2xx: per(name, 'non2xx').reduce((sum, n) => sum + n, 0),
      },
    ]),
  );
  return {
    setup: {
      connections: 50,
      pipelining: 1,
      rounds: rounds.length,
      roundSeconds: ROUND_SECONDS,
      pinning: extra.pinning,
    },
    targets,
    ratios: {
      brokerToNest: spread(ratio('brokerApiKey', 'nest')),
      brokerToFastify: spread(ratio('brokerApiKey', 'fastify')),
      saToApiKey: spread(ratio('brokerSa', 'brokerApiKey')),
      saToNest: spread(ratio('brokerSa', 'nest')),
      nestToFastify: spread(ratio('nest', 'fastify')),
    },
    // The same ratios from CPU per answer (reference's µs / broker's µs): what each answer costs.
    cpuRatios: {
      brokerToNest: spread(cpuRatio('brokerApiKey', 'nest')),
      brokerToFastify: spread(cpuRatio('brokerApiKey', 'fastify')),
      saToApiKey: spread(cpuRatio('brokerSa', 'brokerApiKey')),
    },
    foreignCpuPercentPerRound: rounds.map((r) => r.foreignCpuPercent),
    disturbedRoundsUsed: rounds.disturbedUsed,
    roundsSetAside: extra.roundsSetAside,
    cacheHits: extra.cacheHits,
    otherOutcomes: extra.otherOutcomes,
    brokerRequestsCounted: extra.brokerRequests,
  };
}

/** Table rows: [measure, result, target, met]. */
function rows(h) {
  const out = [];
  for (const name of TARGETS) {
    const t = h.targets[name];
    out.push([
      `hot: ${LABELS[name]}`,
      `${range(t.rps, 0)} req/s, ${range(t.cpuMicrosPerRequest, 1)} µs CPU/req, p50 ${t.p50} ms, p99 ${range(t.p99, 0)} ms, non-2xx ${t.non2xx}`,
      '',
      '',
    ]);
  }
  const r = h.ratios;
  out.push([
    'hot: broker / minimal Nest (API key)',
    range(r.brokerToNest),
    `≥ ${TARGETS_MET.brokerToNest}`,
    mark(r.brokerToNest.median >= TARGETS_MET.brokerToNest),
  ]);
  out.push([
    'hot: broker / bare Fastify (API key)',
    range(r.brokerToFastify),
    `≥ ${TARGETS_MET.brokerToFastify}`,
    mark(r.brokerToFastify.median >= TARGETS_MET.brokerToFastify),
  ]);
  out.push([
    'hot: ServiceAccount caller / API-key caller',
    range(r.saToApiKey),
    `≥ ${TARGETS_MET.saToApiKey}`,
    mark(r.saToApiKey.median >= TARGETS_MET.saToApiKey),
  ]);
  out.push(['hot: broker (ServiceAccount) / minimal Nest', range(r.saToNest), '', '']);
  const c = h.cpuRatios;
  out.push([
    'hot: same three ratios from CPU per answer',
    `${range(c.brokerToNest)} / ${range(c.brokerToFastify)} / ${range(c.saToApiKey)}`,
    '(cross-check)',
    '',
  ]);
  out.push(['hot: minimal Nest / bare Fastify', range(r.nestToFastify), '(reference)', '']);
  const p99 = Math.max(h.targets.brokerApiKey.p99.median, h.targets.brokerSa.p99.median);
  out.push([
    'hot: broker p99, median round (API key / SA)',
    `${h.targets.brokerApiKey.p99.median} / ${h.targets.brokerSa.p99.median} ms`,
    `≤ ${TARGETS_MET.p99Ms} ms`,
    mark(p99 <= TARGETS_MET.p99Ms),
  ]);
  // At full speed a p99 is mostly the connections over the throughput (Little's law): the
  // references' in the same rounds tell what the machine allows.
  out.push([
    'hot: p99, median round, bare Fastify / minimal Nest',
    `${h.targets.fastify.p99.median} / ${h.targets.nest.p99.median} ms`,
    '(reference)',
    '',
  ]);
  const non2xx = h.targets.brokerApiKey.non2xx + h.targets.brokerSa.non2xx;
  out.push(['hot: broker non-2xx', String(non2xx), '0', mark(non2xx === 0)]);
  // autocannon counts the answers it waited for; the broker also answered those in flight when
  // each round stopped, so the broker's count is a little higher.
  out.push([
    'hot: broker answers not from its cache',
    `${h.otherOutcomes} (${h.cacheHits} cache hits, ≥ ${h.brokerRequestsCounted - 1} sent)`,
    '1 (the first read)',
    mark(h.otherOutcomes === 1 && h.cacheHits >= h.brokerRequestsCounted - 1),
  ]);
  out.push(['hot: CPUs', h.setup.pinning, '', '']);
  out.push([
    "hot: other processes' CPU per round",
    `${h.foreignCpuPercentPerRound.map((x) => `${fmt(x, 1)}%`).join(', ')}; ${h.roundsSetAside} set aside, ${h.disturbedRoundsUsed} disturbed used`,
    `≤ ${MAX_FOREIGN_CPU}%`,
    '',
  ]);
  return out;
}

module.exports = { run, rows };
