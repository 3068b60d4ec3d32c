// The token path with OpenTelemetry tracing off and on: brokers on one database, one with no
// OTEL_* variable (no SDK loaded), one exporting every span over OTLP/HTTP to a local sink in its
// own process, and one with the SDK loaded but sampling nothing (what sampling saves). Autocannon
// rounds alternate between them (the order rotates each round, so drift on a shared machine falls
// on all), and the figures are medians of the rounds.
// With BENCH_TRACING_BASELINE=<main.js of a build without tracing> (e.g. the commit before it,
// built elsewhere), a fourth broker runs that build: "off / baseline" is what tracing costs when
// it is off.
// The `tracing` section of `npm run bench` (`npm run bench tracing`, after npm run build;
// BENCH_SECONDS, BENCH_ROUNDS as in run.js, BENCH_OTLP_PROTOCOL http/protobuf (default) or http/json).
const { spawn } = require('node:child_process');
const {
  adminCall,
  createBloomIntegration,
  createDatabase,
  freePort,
  loadSandbox,
  median,
  sleep,
  startBroker,
  tokenLoad,
  fmt,
  roundSettings,
} = require('./support');

const {
  roundSeconds: ROUND_SECONDS,
  rounds: ROUNDS,
  warmupSeconds: WARMUP_SECONDS,
} = roundSettings({ roundSeconds: 8, rounds: 3, warmupSeconds: 6 });
const REDIS_URL = 'redis://127.0.0.1:6379/12';
const PROTOCOL = process.env.BENCH_OTLP_PROTOCOL || 'http/protobuf';
const SPAN_NAME = 'GET /tokens/:connection';
const BASELINE_MAIN = process.env.BENCH_TRACING_BASELINE;
const TARGETS = ['off', 'on', 'sampledOut', ...(BASELINE_MAIN ? ['baseline'] : [])];

/** An OTLP/HTTP sink in its own process: answers every export, counts token-request spans. */
async function startSink() {
  const port = await freePort();
  const source = `
    const http = require('node:http');
    let exports = 0, bytes = 0, tokenSpans = 0;
    // The span name is in the body as it is, in JSON and in protobuf alike.
    const marker = Buffer.from(${JSON.stringify(SPAN_NAME)});
    http.createServer((req, res) => {
      if (req.method === 'GET') return res.end(JSON.stringify({ exports, bytes, tokenSpans }));
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        exports += 1;
        bytes += body.length;
        for (let at = body.indexOf(marker); at !== -1; at = body.indexOf(marker, at + 1)) tokenSpans += 1;
        const json = String(req.headers['content-type']).includes('json');
        res.setHeader('content-type', json ? 'application/json' : 'application/x-protobuf');
        res.end(json ? '{}' : undefined);
      });
    }).listen(${port}, '127.0.0.1', () => process.send('ready'));`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  await new Promise((resolve) => child.once('message', resolve));
  const url = `http://127.0.0.1:${port}`;
  return { url, stats: async () => (await fetch(url)).json(), stop: () => child.kill('SIGTERM') };
}

async function tracing() {
  const { createSandbox } = loadSandbox();
  const sandbox = createSandbox();
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('tracing');
  const sink = await startSink();
  const stops = [];
  try {
    // Role api, as a sidecar or the central api runs; the first broker migrates the database.
    const off = await startBroker({ DATABASE_URL: db.url, REDIS_URL, BROKER_ROLE: 'api' });
    stops.push(off.stop);
    const traced = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: PROTOCOL };
    const on = await startBroker({ DATABASE_URL: db.url, REDIS_URL, BROKER_ROLE: 'api', ...traced });
    stops.push(on.stop);
    const sampledOut = await startBroker({
      DATABASE_URL: db.url,
      REDIS_URL,
      BROKER_ROLE: 'api',
      ...traced,
      OTEL_TRACES_SAMPLER: 'always_off',
    });
    stops.push(sampledOut.stop);
    const targets = { off, on, sampledOut };
    if (BASELINE_MAIN) {
      targets.baseline = await startBroker(
        { DATABASE_URL: db.url, REDIS_URL, BROKER_ROLE: 'api' },
        [],
        BASELINE_MAIN,
      );
      stops.push(targets.baseline.stop);
    }
    await createBloomIntegration(off.url, sandboxUrl);
    await adminCall(off.url, 'POST', '/admin/connections', { key: 'credit', integration: 'bloom' });
    const { apiKey } = await adminCall(off.url, 'POST', '/admin/clients', {
      name: 'bench',
      connections: ['*'],
    });

    const rounds = Object.fromEntries(TARGETS.map((name) => [name, []]));
    let onRequests = 0;
    for (const name of TARGETS) await tokenLoad(targets[name].url, apiKey, WARMUP_SECONDS);
    await sleep(6_000); // the warm-up's spans leave before the counted rounds
    const exportedBefore = (await sink.stats()).tokenSpans;
    for (let round = 0; round < ROUNDS; round++) {
      const shift = round % TARGETS.length;
      const order = [...TARGETS.slice(shift), ...TARGETS.slice(0, shift)];
      for (const name of order) {
        const result = await tokenLoad(targets[name].url, apiKey, ROUND_SECONDS);
        if (name === 'on') onRequests += result.requests.total;
        rounds[name].push({
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          non2xx: result.non2xx + result.errors + result.timeouts,
        });
        process.stdout.write(
          `  tracing round ${round + 1} ${name}: ${Math.round(result.requests.average)} req/s\n`,
        );
      }
    }
    await sleep(6_000); // one more batch delay (5 s by default) for the last spans
    const sinkStats = await sink.stats();
    const summary = Object.fromEntries(
      Object.entries(rounds).map(([name, list]) => [
        name,
        {
          rps: median(list.map((r) => r.rps)),
          p50: median(list.map((r) => r.p50)),
          p99: median(list.map((r) => r.p99)),
          non2xx: list.reduce((sum, r) => sum + r.non2xx, 0),
          roundsRps: list.map((r) => Math.round(r.rps)),
        },
      ]),
    );
    // Ratios of the same round (neighbours in time), then their median: the machine's drift
    // between rounds cancels out better than in a ratio of medians.
    const paired = (a, b) => median(rounds[a].map((r, i) => r.rps / rounds[b][i].rps));
    summary.protocol = PROTOCOL;
    summary.onToOff = paired('on', 'off');
    summary.sampledOutToOff = paired('sampledOut', 'off');
    if (summary.baseline) summary.offToBaseline = paired('off', 'baseline');
    summary.onRequests = onRequests;
    summary.spansExported = sinkStats.tokenSpans - exportedBefore;
    summary.exports = sinkStats.exports;
    return summary;
  } finally {
    for (const stop of stops.reverse()) await stop();
    sink.stop();
    await sandbox.close();
    await db.drop();
  }
}

/** Table rows [measure, result, target, met] for bench/run.js. */
function rows(t) {
  return [
    ['tracing: off, req/s (p99)', `${fmt(t.off.rps)} (${fmt(t.off.p99)} ms)`, '', ''],
    [`tracing: on (${t.protocol}), req/s (p99)`, `${fmt(t.on.rps)} (${fmt(t.on.p99)} ms)`, '', ''],
    ['tracing: on / off', fmt(t.onToOff, 2), '(cost of tracing on)', ''],
    ['tracing: sampled out / off', fmt(t.sampledOutToOff, 2), '', ''],
    ...(t.baseline ? [['tracing: off / build without tracing', fmt(t.offToBaseline, 2), '≈ 1', '']] : []),
    ['tracing: token spans exported / requests', `${t.spansExported} / ${t.onRequests}`, '', ''],
  ];
}

module.exports = { run: tracing, rows };
