// The agent injector's figures (issue 29): start to listening and idle RSS as `npm run
// start:injector` starts it over TLS, the time per AdmissionReview (one at a time, as the API
// server sends a pod's creation, and 16 at once, as a rollout of many pods does), the CPU each
// review costs, and RSS after the load. The `injector` section of `npm run bench` (alone:
// `npm run bench injector` or `node bench/injector.js`). Needs `npm run build` and openssl;
// no Postgres, no Redis.
const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const { freePort, median, percentile, processUsage, sleep, fmt, mark } = require('./support');

const ROOT = path.resolve(__dirname, '..');
const MAIN = path.join(ROOT, 'dist/apps/injector/src/main.js');
const SERVICE_DNS = 'token-broker-injector.token-broker.svc';
const STARTS = 5;
const SEQUENTIAL = Number(process.env.BENCH_INJECTOR_REVIEWS ?? 3000);
const CONCURRENT = 16;
// What a review costs against the webhook's 5 s timeout (deploy/k8s/overlays/injector/webhook.yaml),
// and the memory the Deployment requests.
const TARGETS = { idleRssMb: 64, p99Ms: 50 };

function nodeArgs() {
  const script = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['start:injector'];
  return script
    .trim()
    .split(/\s+/)
    .filter((part) => part.startsWith('--'));
}

function issueCertificate(dir) {
  const run = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const file = (name) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-days',
    '1',
    '-subj',
    '/CN=bench-ca',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
  );
  run('req', ...ec, '-subj', `/CN=${SERVICE_DNS}`, '-keyout', file('tls.key'), '-out', file('tls.csr'));
  writeFileSync(file('ext.cnf'), `subjectAltName=DNS:${SERVICE_DNS}\nextendedKeyUsage=serverAuth\n`);
  run(
    'x509',
    '-req',
    '-in',
    file('tls.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    file('ext.cnf'),
    '-out',
    file('tls.crt'),
  );
  return { ca: readFileSync(file('ca.crt')), cert: file('tls.crt'), key: file('tls.key') };
}

async function startInjector(certs) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs(), MAIN], {
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      INJECTOR_AGENT_IMAGE: 'ghcr.io/example/token-broker:0.1.0',
      INJECTOR_BROKER_URL: 'http://token-broker.token-broker.svc:3000',
      INJECTOR_TLS_CERT_FILE: certs.cert,
      INJECTOR_TLS_KEY_FILE: certs.key,
      INJECTOR_LOG_LEVEL: 'warn',
    },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  child.stdout.on('data', (chunk) => (output += chunk));
  const agent = new https.Agent({
    keepAlive: true,
    ca: certs.ca,
    servername: SERVICE_DNS,
    maxSockets: CONCURRENT,
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`injector exited: ${output}`);
    try {
      if ((await post(port, agent, null, '/health/ready')).status === 200) break;
    } catch {
      if (Date.now() > deadline) throw new Error(`injector not listening: ${output}`);
      await sleep(10);
    }
  }
  return { child, port, agent, startMs: performance.now() - started };
}

function post(port, agent, body, pathname = '/mutate?timeout=5s') {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        agent,
        servername: SERVICE_DNS,
        method: body === null ? 'GET' : 'POST',
        path: pathname,
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
      },
    );
    request.on('error', reject);
    request.end(body ?? undefined);
  });
}

async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-injector-'));
  const review = readFileSync(path.join(ROOT, 'test/fixtures/injector/deployment-pod.review.json'));
  try {
    const certs = issueCertificate(dir);
    const startMs = [];
    const idleRss = [];
    for (let i = 0; i < STARTS; i++) {
      const injector = await startInjector(certs);
      startMs.push(injector.startMs);
      await post(injector.port, injector.agent, review);
      await sleep(500);
      idleRss.push(processUsage(injector.child.pid).rssMb);
      injector.agent.destroy();
      injector.child.kill('SIGTERM');
      await new Promise((resolve) => injector.child.once('exit', resolve));
    }
    process.stdout.write(`  injector idle RSS: ${idleRss.map((mb) => mb.toFixed(1)).join(', ')} MB\n`);

    const injector = await startInjector(certs);
    try {
      for (let i = 0; i < 200; i++) await post(injector.port, injector.agent, review); // warm-up
      const cpuBefore = processUsage(injector.child.pid).cpuSeconds;
      const latencies = [];
      for (let i = 0; i < SEQUENTIAL; i++) {
        const started = performance.now();
        const { status, body } = await post(injector.port, injector.agent, review);
        latencies.push(performance.now() - started);
        if (status !== 200 || !JSON.parse(body).response.patch) throw new Error(`review answered ${status}`);
      }
      const cpuSequential = processUsage(injector.child.pid).cpuSeconds - cpuBefore;

      const concurrentStarted = performance.now();
      let sent = 0;
      const concurrentLatencies = [];
      await Promise.all(
        Array.from({ length: CONCURRENT }, async () => {
          while (sent < SEQUENTIAL) {
            sent += 1;
            const started = performance.now();
            await post(injector.port, injector.agent, review);
            concurrentLatencies.push(performance.now() - started);
          }
        }),
      );
      const concurrentSeconds = (performance.now() - concurrentStarted) / 1000;
      const rssAfterLoadMb = processUsage(injector.child.pid).rssMb;
      const result = {
        nodeArgs: nodeArgs(),
        reviewBytes: review.length,
        startToListeningMs: { median: median(startMs), max: Math.max(...startMs) },
        idleRssMb: { median: median(idleRss), max: Math.max(...idleRss), afterLoad: rssAfterLoadMb },
        sequential: {
          reviews: SEQUENTIAL,
          p50Ms: median(latencies),
          p99Ms: percentile(latencies, 99),
          cpuMsPerReview: (cpuSequential * 1000) / SEQUENTIAL,
        },
        concurrent: {
          connections: CONCURRENT,
          reviewsPerSecond: SEQUENTIAL / concurrentSeconds,
          p99Ms: percentile(concurrentLatencies, 99),
        },
      };
      result.met = {
        idleRss: result.idleRssMb.max <= TARGETS.idleRssMb,
        p99: result.sequential.p99Ms <= TARGETS.p99Ms,
      };
      return result;
    } finally {
      injector.agent.destroy();
      injector.child.kill('SIGTERM');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Table rows [measure, result, target, met] for bench/run.js. */
function rows(r) {
  return [
    ['injector: node flags (as npm run start:injector)', r.nodeArgs.join(' '), '', ''],
    [
      'injector: start to listening over TLS (median, max of 5)',
      `${fmt(r.startToListeningMs.median)} ms, ${fmt(r.startToListeningMs.max)} ms`,
      '',
      '',
    ],
    [
      'injector: idle RSS (median, max of 5; after load)',
      `${fmt(r.idleRssMb.median, 1)}, ${fmt(r.idleRssMb.max, 1)}; ${fmt(r.idleRssMb.afterLoad, 1)} MB`,
      `≤ ${TARGETS.idleRssMb} MB`,
      mark(r.met.idleRss),
    ],
    [
      `injector: one review at a time (${fmt(r.sequential.reviews)}, ${fmt(r.reviewBytes)} B), p50 / p99`,
      `${fmt(r.sequential.p50Ms, 2)} / ${fmt(r.sequential.p99Ms, 2)} ms; ${fmt(r.sequential.cpuMsPerReview, 2)} ms CPU each`,
      `p99 ≤ ${TARGETS.p99Ms} ms`,
      mark(r.met.p99),
    ],
    [
      `injector: ${r.concurrent.connections} reviews at once (a rollout; queueing, not a target)`,
      `${fmt(r.concurrent.reviewsPerSecond)} reviews/s, p99 ${fmt(r.concurrent.p99Ms, 2)} ms`,
      '',
      '',
    ],
  ];
}

module.exports = { run, rows };

if (require.main === module) {
  run().then(
    (result) => {
      for (const [measure, value, target, met] of rows(result)) {
        process.stdout.write(`${measure}: ${value}${target ? ` (target ${target}: ${met})` : ''}\n`);
      }
    },
    (error) => {
      process.stderr.write(`${error.stack}\n`);
      process.exit(1);
    },
  );
}
