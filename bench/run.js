// npm run bench [-- <section> …]: runs the named sections (default: the `default: true` ones),
// prints one table of measured figures and writes bench/results/latest.json. Every speed target
// is a ratio to a reference measured in the same run on the same machine.
//
// A section is one entry of SECTIONS: `run()` measures and returns a JSON-able summary, `rows(summary)`
// turns it into table rows [measure, result, target, met]. Sections in their own file export both.
const { mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const hotpath = require('./hotpath');
const agent = require('./agent');
const injector = require('./injector');
const tracing = require('./tracing');
const scale = require('./scale');
const {
  adminCall,
  connectAuthorized,
  createBloomIntegration,
  createBloomerangIntegration,
  createDatabase,
  loadSandbox,
  median,
  percentile,
  processUsage,
  sleep,
  sql,
  startBroker,
  startSandboxProcess,
  fmt,
} = require('./support');

async function herd() {
  const sandbox = await startSandboxProcess({ SANDBOX_AUTO_APPROVE: 'true' });
  const sandboxUrl = sandbox.url;
  const db = await createDatabase('herd');
  const env = { DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379/13' };
  const first = await startBroker(env);
  const replicas = [first, await startBroker(env), await startBroker(env)];
  try {
    await createBloomerangIntegration(first.url, sandboxUrl);
    await connectAuthorized(first.url, 'bloomerang', 'herd');
    const { apiKey } = await adminCall(first.url, 'POST', '/admin/clients', {
      name: 'herd',
      connections: ['*'],
    });
    for (const replica of replicas)
      await fetch(`${replica.url}/tokens/herd`, { headers: { authorization: `Bearer ${apiKey}` } });
    // Expire the token as time would, announcing it so every replica's cache lets go.
    const [row] = await sql(
      db.url,
      `UPDATE connections SET expires_at = now() - interval '1 second', token_version = token_version + 1 WHERE key = 'herd' RETURNING id, token_version`,
    );
    await sql(db.url, 'SELECT pg_notify($1, $2)', [
      'broker_connection_changed',
      JSON.stringify({ id: row.id, key: 'herd', v: row.token_version, kind: 'tokens' }),
    ]);
    await sleep(300);
    await sandbox.configure({ tokenLatencyMs: 300 });
    const before = (await sandbox.stats()).tokenRequests.byProvider.bloomerang.refresh_token ?? 0;
    const burst = async () => {
      const latencies = [];
      const answers = await Promise.all(
        Array.from({ length: 1000 }, async (_, i) => {
          const started = performance.now();
          const response = await fetch(`${replicas[i % 3].url}/tokens/herd`, {
            headers: { authorization: `Bearer ${apiKey}` },
          });
          const body = await response.json();
          latencies.push(performance.now() - started);
          return { status: response.status, token: body.accessToken };
        }),
      );
      return { answers, latencies };
    };
    const { answers, latencies } = await burst();
    const upstreamCalls =
      ((await sandbox.stats()).tokenRequests.byProvider.bloomerang.refresh_token ?? 0) - before;
    // The same burst again, now answered from the caches: what 1,000 simultaneous requests cost
    // this machine (load generator, 3 replicas, Postgres) without any refresh.
    const control = await burst();
    return {
      requests: answers.length,
      ok: answers.filter((a) => a.status === 200).length,
      distinctTokens: new Set(answers.map((a) => a.token)).size,
      upstreamCalls,
      refreshTokenReuses: (await sandbox.stats()).refreshTokenReuses,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      cachedBurstP50Ms: percentile(control.latencies, 50),
      cachedBurstP99Ms: percentile(control.latencies, 99),
      upstreamLatencyMs: 300,
    };
  } finally {
    for (const replica of replicas) await replica.stop();
    await sandbox.close();
    await db.drop();
  }
}

/** V8 flags the sidecar manifest sets (deploy/k8s/overlays/sidecar-example): a small young generation. */
const SIDECAR_NODE_FLAGS = ['--max-semi-space-size=1', '--max-old-space-size=96'];

async function footprint() {
  const db = await createDatabase('footprint');
  const env = {
    DATABASE_URL: db.url,
    REDIS_URL: 'redis://127.0.0.1:6379/14',
    BROKER_ROLE: 'api',
    BROKER_ADMIN_API: 'false',
    BROKER_AUTO_MIGRATE: 'false',
  };
  const measure = async (flags) => {
    const starts = [];
    let idle;
    for (let i = 0; i < 5; i++) {
      const broker = await startBroker(env, flags);
      starts.push(broker.readyMs);
      if (i === 4) {
        await sleep(10_000);
        idle = processUsage(broker.child.pid);
      }
      await broker.stop();
    }
    return { startToReadyMs: median(starts), startsMs: starts.map(Math.round), idleRssMb: idle.rssMb };
  };
  try {
    const migrator = await startBroker({ DATABASE_URL: db.url, REDIS_URL: env.REDIS_URL }); // migrates once
    await migrator.stop();
    return {
      sidecarFlags: SIDECAR_NODE_FLAGS.join(' '),
      sidecar: await measure(SIDECAR_NODE_FLAGS),
      nodeDefaults: await measure([]),
    };
  } finally {
    await db.drop();
  }
}

async function refreshLoad() {
  const count = Number(process.env.BENCH_CONNECTIONS || (process.env.BENCH_QUICK ? 1000 : 10_000));
  const cap = 5;
  const { createSandbox } = loadSandbox();
  // Lifetimes of 120 s: created over the first minute or so, every token comes due within ~5 minutes.
  const sandbox = createSandbox({ bloomTokenTtlSeconds: 120 });
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('scale');
  const worker = await startBroker({
    DATABASE_URL: db.url,
    REDIS_URL: 'redis://127.0.0.1:6379/15',
    BROKER_INTEGRATION_CONCURRENCY: String(cap),
    BROKER_WORKER_CONCURRENCY: '50',
    BROKER_RECONCILE_INTERVAL_SECONDS: '30',
  });
  try {
    await createBloomIntegration(worker.url, sandboxUrl);
    const { apiKey } = await adminCall(worker.url, 'POST', '/admin/clients', {
      name: 'scale',
      connections: ['*'],
    });
    const createdStart = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (next < count) {
          const index = next++;
          await adminCall(worker.url, 'POST', '/admin/connections', {
            key: `c${index}`,
            integration: 'bloom',
          });
        }
      }),
    );
    const createSeconds = (Date.now() - createdStart) / 1000;
    const cpuStart = processUsage(worker.child.pid).cpuSeconds;
    // Watch until every token has been refreshed at least once (or 8 minutes pass), sampling reads.
    const deadline = Date.now() + 8 * 60_000;
    let shortReads = 0;
    let reads = 0;
    let peakRss = 0;
    for (;;) {
      const [{ pending }] = await sql(
        db.url,
        `SELECT count(*)::int AS pending FROM connections WHERE token_version < 2`,
      );
      for (let i = 0; i < 20; i++) {
        const key = `c${Math.floor(Math.random() * count)}`;
        const response = await fetch(`${worker.url}/tokens/${key}?minValidity=10`, {
          headers: { authorization: `Bearer ${apiKey}` },
        });
        const body = await response.json();
        reads += 1;
        if (response.status !== 200 || body.expiresIn < 10) shortReads += 1;
      }
      peakRss = Math.max(peakRss, processUsage(worker.child.pid).rssMb);
      if (pending === 0 || Date.now() > deadline) break;
      await sleep(2_000);
    }
    const [{ refreshed }] = await sql(
      db.url,
      `SELECT count(*)::int AS refreshed FROM connections WHERE token_version >= 2`,
    );
    const metrics = await (await fetch(`${worker.url}/metrics`)).text();
    const lag = histogramPercentile(metrics, 'broker_scheduler_lag_seconds', 99);
    return {
      connections: count,
      createSeconds,
      refreshedAtLeastOnce: refreshed,
      schedulerLagP99Seconds: lag,
      upstreamConcurrencyPeak: sandbox.stats().maxConcurrentTokenRequests.bloom,
      upstreamConcurrencyCap: cap,
      readsSampled: reads,
      readsBelowMinValidity: shortReads,
      workerCpuSeconds: processUsage(worker.child.pid).cpuSeconds - cpuStart,
      workerPeakRssMb: peakRss,
    };
  } finally {
    await worker.stop();
    await sandbox.close();
    await db.drop();
  }
}

/** The upper bound of the bucket holding the p-th percentile of a Prometheus histogram. */
function histogramPercentile(text, name, p) {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`, 'gm'))].map(
    (m) => ({
      le: m[1] === '+Inf' ? Infinity : Number(m[1]),
      count: Number(m[2]),
    }),
  );
  const total = buckets.at(-1)?.count ?? 0;
  if (total === 0) return null;
  return buckets.find((b) => b.count >= (p / 100) * total).le;
}

const SECTIONS = {
  hotpath: { ...hotpath, default: true },
  herd: { run: herd, rows: herdRows, default: true },
  footprint: { run: footprint, rows: footprintRows, default: true },
  agent: { run: agent.run, rows: agent.rows, default: true },
  injector: { run: injector.run, rows: injector.rows, default: false },
  tracing: { run: tracing.run, rows: tracing.rows },
  // Issue 17: the scheduler's cost at a million connections (bench/scale.js).
  scale: { run: scale.run, rows: scale.rows },
  'refresh-load': { run: refreshLoad, rows: scaleRows },
};
/** Former names of sections. */
const ALIASES = { hot: 'hotpath' };

async function main() {
  const args = process.argv.slice(2).map((name) => ALIASES[name] ?? name);
  const unknown = args.filter((name) => !SECTIONS[name]);
  if (unknown.length) {
    process.stderr.write(
      `unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(SECTIONS).join(', ')}\n`,
    );
    process.exit(2);
  }
  const names = args.length ? args : Object.keys(SECTIONS).filter((name) => SECTIONS[name].default);
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    sections: {},
  };
  for (const name of names) {
    const load = os.loadavg()[0];
    process.stdout.write(`running ${name}… (load average ${load.toFixed(2)})\n`);
    results.sections[name] = await SECTIONS[name].run();
  }
  const rows = names.flatMap((name) => SECTIONS[name].rows(results.sections[name]));
  const widths = [0, 1, 2].map((i) => Math.max(7, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells) =>
    `${cells.map((cell, i) => (i < 3 ? (cell ?? '').padEnd(widths[i]) : (cell ?? ''))).join('  ')}\n`;
  process.stdout.write(`\n${line(['measure', 'result', 'target', ''])}`);
  for (const row of rows) process.stdout.write(line(row));
  const dir = path.join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
}

function herdRows(h) {
  return [
    ['herd: upstream refresh calls', String(h.upstreamCalls), '1'],
    ['herd: answered 200', `${h.ok} / ${h.requests}`, 'all'],
    ['herd: distinct tokens', String(h.distinctTokens), '1'],
    [
      'herd: p50 / p99 latency',
      `${fmt(h.p50Ms)} / ${fmt(h.p99Ms)} ms`,
      `p99 ≤ ${h.upstreamLatencyMs + 100} ms`,
    ],
    [
      'herd: same burst from cache, p50 / p99',
      `${fmt(h.cachedBurstP50Ms)} / ${fmt(h.cachedBurstP99Ms)} ms`,
      '(harness floor)',
    ],
    [
      'herd: p99 over the cached burst',
      `${fmt(h.p99Ms - h.cachedBurstP99Ms)} ms`,
      `≤ ${h.upstreamLatencyMs + 100} ms`,
    ],
  ];
}

function footprintRows(f) {
  return [
    ['sidecar: start to ready (median of 5)', `${fmt(f.sidecar.startToReadyMs)} ms`, '≤ 1500 ms'],
    ['sidecar: idle RSS (sidecar V8 flags)', `${fmt(f.sidecar.idleRssMb, 1)} MB`, '≤ 120 MB'],
    ['sidecar: idle RSS (Node defaults)', `${fmt(f.nodeDefaults.idleRssMb, 1)} MB`, ''],
  ];
}

function scaleRows(s) {
  return [
    ['scale: connections / refreshed', `${s.connections} / ${s.refreshedAtLeastOnce}`, 'all'],
    ['scale: scheduler lag p99', `≤ ${fmt(s.schedulerLagP99Seconds, 1)} s`, '≤ 2 s'],
    [
      'scale: upstream concurrency peak / cap',
      `${s.upstreamConcurrencyPeak} / ${s.upstreamConcurrencyCap}`,
      'peak ≤ cap',
    ],
    ['scale: reads below minValidity', `${s.readsBelowMinValidity} / ${s.readsSampled}`, '0'],
    ['scale: worker CPU / peak RSS', `${fmt(s.workerCpuSeconds, 1)} s / ${fmt(s.workerPeakRssMb)} MB`, ''],
  ];
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
