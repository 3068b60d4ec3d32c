// The sidecar agent's figures (issue 9), beside the broker's: start to ready, idle RSS as
// `npm run start:agent` starts it, cache-hit throughput against the bare Fastify reference in the
// same run, and the Postgres connections that N application pods open with a full broker in each
// pod (what the sidecar example used to run) and with an agent in each pod.
// The `agent` section of `npm run bench` (alone: `npm run bench agent`).
const { spawn } = require('node:child_process');
const { readdirSync, readFileSync, readlinkSync } = require('node:fs');
const path = require('node:path');
const {
  adminCall,
  createBloomIntegration,
  createDatabase,
  freePort,
  loadSandbox,
  median,
  processUsage,
  sleep,
  sql,
  startBroker,
  startReference,
  tokenLoad,
  fmt,
  mark,
  range,
  roundSettings,
  spread,
} = require('./support');

const ROOT = path.resolve(__dirname, '..');
const {
  roundSeconds: ROUND_SECONDS,
  rounds: ROUNDS,
  warmupSeconds: WARMUP_SECONDS,
} = roundSettings({ roundSeconds: 8, rounds: 3, warmupSeconds: 6 });
const STARTS = 5;
const PODS_ON_PAPER = 300;
const AGENTS_FOR_CONNECTIONS = 5;
const REDIS_URL = 'redis://127.0.0.1:6379/12';
const TARGETS = {
  idleRssMb: 60,
  startToReadyMs: 300,
  hitThroughputToFastify: 0.85,
  hitP99Ms: 2,
};

/** `npm run start:agent` as package.json has it: the node flags and the entry, run the same way here. */
function startAgentCommand() {
  const script = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts['start:agent'];
  const [node, ...args] = script.trim().split(/\s+/);
  if (node !== 'node') throw new Error(`start:agent must run node directly, found: ${script}`);
  return args;
}

/** Starts an agent as `npm run start:agent` does; resolves once /health/ready answers 200. */
async function startAgent(env) {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, startAgentCommand(), {
    cwd: ROOT,
    // Exactly what a pod gives it: no database, Redis or key in sight.
    env: { PATH: process.env.PATH, AGENT_PORT: String(port), AGENT_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Number(process.hrtime.bigint() - started) / 1e6 > 20_000) throw new Error('agent not ready');
    await sleep(2);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    url,
    child,
    readyMs,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function postgresConnections(dbUrl) {
  const name = new URL(dbUrl).pathname.slice(1);
  const [row] = await sql(
    'postgres://postgres@127.0.0.1:5432/postgres',
    'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
    [name],
  );
  return row.n;
}

/**
 * TCP connections to Postgres (port 5432) that a process holds: its socket inodes (/proc/<pid>/fd)
 * matched against the established connections in /proc/net/tcp and tcp6.
 */
function postgresSocketsOf(pid) {
  const inodes = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // remote address, state 01 (established), inode
      if (fields.length > 9 && fields[2].endsWith(':1538') && fields[3] === '01' && inodes.has(fields[9])) {
        count += 1;
      }
    }
  }
  return count;
}

async function agentSection() {
  const { createSandbox } = loadSandbox();
  const sandbox = createSandbox();
  const sandboxUrl = await sandbox.listen(0);
  const db = await createDatabase('agent');
  const central = await startBroker({ DATABASE_URL: db.url, REDIS_URL });
  const stoppers = [() => central.stop()];
  try {
    await createBloomIntegration(central.url, sandboxUrl);
    await adminCall(central.url, 'POST', '/admin/connections', { key: 'credit', integration: 'bloom' });
    const { apiKey } = await adminCall(central.url, 'POST', '/admin/clients', {
      name: 'bench-agent',
      connections: ['*'],
    });
    const agentEnv = { AGENT_BROKER_URL: central.url, AGENT_API_KEY: apiKey };

    // Start to ready, and idle RSS of a fresh agent that has served one token.
    const starts = [];
    const idleRss = [];
    for (let i = 0; i < STARTS; i++) {
      const agent = await startAgent(agentEnv);
      starts.push(agent.readyMs);
      const first = await fetch(`${agent.url}/tokens/credit`);
      if (first.status !== 200) throw new Error(`agent answered ${first.status}`);
      await sleep(3_000);
      idleRss.push(processUsage(agent.child.pid).rssMb);
      await agent.stop();
    }
    process.stdout.write(`  agent start to ready: ${starts.map((ms) => ms.toFixed(0)).join(', ')} ms\n`);
    process.stdout.write(`  agent idle RSS: ${idleRss.map((mb) => mb.toFixed(1)).join(', ')} MB\n`);

    // Cache hits: the agent against bare Fastify, alternated round by round.
    const agent = await startAgent(agentEnv);
    stoppers.push(() => agent.stop());
    const fastify = await startReference('reference-fastify.js', apiKey);
    stoppers.push(() => fastify.stop());
    const targets = { fastify, agent };
    const rounds = { fastify: [], agent: [] };
    // The agent asks the app for no credential and ignores the header; the reference checks it.
    for (const name of Object.keys(targets)) await tokenLoad(targets[name].url, apiKey, WARMUP_SECONDS);
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of Object.keys(targets)) {
        const result = await tokenLoad(targets[name].url, apiKey, ROUND_SECONDS);
        rounds[name].push({
          rps: result.requests.average,
          p99: result.latency.p99,
          non2xx: result.non2xx + result.errors + result.timeouts,
        });
        process.stdout.write(
          `  agent round ${round + 1} ${name}: ${Math.round(result.requests.average)} req/s\n`,
        );
      }
    }
    await sleep(3_000);
    const rssAfterLoadMb = processUsage(agent.child.pid).rssMb;
    const ratios = rounds.agent.map((r, i) => r.rps / rounds.fastify[i].rps);

    // Postgres connections: a full broker per pod (role api, as the old sidecar ran) against agents.
    const centralOnly = await postgresConnections(db.url);
    const podBroker = await startBroker({ DATABASE_URL: db.url, REDIS_URL, BROKER_ROLE: 'api' });
    stoppers.push(() => podBroker.stop());
    await tokenLoad(podBroker.url, apiKey, 3);
    const withOnePodBroker = await postgresConnections(db.url);
    await podBroker.stop();
    await sleep(500);
    const agents = [];
    for (let i = 0; i < AGENTS_FOR_CONNECTIONS; i++) agents.push(await startAgent(agentEnv));
    stoppers.push(() => Promise.all(agents.map((a) => a.stop())));
    await Promise.all(agents.map((a) => tokenLoad(a.url, apiKey, 2)));
    const withAgents = await postgresConnections(db.url);
    // Which process holds them: the agents none (they never load a Postgres client), the central its pool.
    const heldByAgents = agents.reduce((sum, a) => sum + postgresSocketsOf(a.child.pid), 0);
    const heldByCentral = postgresSocketsOf(central.child.pid);
    const perPodBroker = withOnePodBroker - centralOnly;

    const summary = {
      startToReadyMs: { median: median(starts), max: Math.max(...starts) },
      idleRssMb: { median: median(idleRss), max: Math.max(...idleRss), afterLoad: rssAfterLoadMb },
      nodeArgs: startAgentCommand().slice(0, -1),
      hits: {
        agentRps: median(rounds.agent.map((r) => r.rps)),
        fastifyRps: median(rounds.fastify.map((r) => r.rps)),
        ratio: spread(ratios),
        p99Ms: median(rounds.agent.map((r) => r.p99)),
        non2xx: rounds.agent.reduce((sum, r) => sum + r.non2xx, 0),
      },
      postgres: {
        centralOnly,
        perPodBroker,
        withAgents,
        heldByAgents,
        heldByCentral,
        agents: AGENTS_FOR_CONNECTIONS,
        onPaper: {
          pods: PODS_ON_PAPER,
          // Measured after load: a broker's pool grows to what its traffic needs, up to 20, plus LISTEN.
          brokerPerPod: PODS_ON_PAPER * perPodBroker,
          brokerPerPodAtPoolLimit: PODS_ON_PAPER * 21,
          agentPerPod: centralOnly,
        },
      },
    };
    summary.met = {
      idleRss: summary.idleRssMb.max <= TARGETS.idleRssMb,
      startToReady: summary.startToReadyMs.median <= TARGETS.startToReadyMs,
      hitThroughput: summary.hits.ratio.median >= TARGETS.hitThroughputToFastify,
      hitP99: summary.hits.p99Ms <= TARGETS.hitP99Ms,
      noErrors: summary.hits.non2xx === 0,
      noPostgresFromAgents: summary.postgres.heldByAgents === 0,
    };
    return summary;
  } finally {
    for (const stop of stoppers.reverse()) await stop();
    await sandbox.close();
    await db.drop();
  }
}

/** Table rows [measure, result, target, met] for bench/run.js. */
function rows(a) {
  const pg = a.postgres;
  return [
    ['agent: node flags (as npm run start:agent)', a.nodeArgs.join(' '), '', ''],
    [
      'agent: start to ready (median, max of 5)',
      `${fmt(a.startToReadyMs.median)} ms, ${fmt(a.startToReadyMs.max)} ms`,
      `≤ ${TARGETS.startToReadyMs} ms`,
      mark(a.met.startToReady),
    ],
    [
      'agent: idle RSS (median, max of 5; after load)',
      `${fmt(a.idleRssMb.median, 1)}, ${fmt(a.idleRssMb.max, 1)}; ${fmt(a.idleRssMb.afterLoad, 1)} MB`,
      `≤ ${TARGETS.idleRssMb} MB`,
      mark(a.met.idleRss),
    ],
    [
      'agent: cache hits / bare Fastify (median [min–max])',
      `${range(a.hits.ratio)} (${fmt(a.hits.agentRps)} vs ${fmt(a.hits.fastifyRps)} req/s)`,
      `≥ ${TARGETS.hitThroughputToFastify}`,
      mark(a.met.hitThroughput),
    ],
    [
      'agent: cache-hit p99 at 50 connections',
      `${fmt(a.hits.p99Ms)} ms`,
      `≤ ${TARGETS.hitP99Ms} ms`,
      mark(a.met.hitP99),
    ],
    ['agent: non-2xx', String(a.hits.non2xx), '0', mark(a.met.noErrors)],
    [
      `agent: Postgres connections held by ${pg.agents} agents (central: ${pg.heldByCentral})`,
      String(pg.heldByAgents),
      '0',
      mark(a.met.noPostgresFromAgents),
    ],
    [
      `agent: Postgres sessions, central alone / with ${pg.agents} agents reading`,
      `${pg.centralOnly} / ${pg.withAgents} (the central pool follows its load)`,
      '',
      '',
    ],
    ['agent: Postgres sessions one full-broker pod adds (measured)', String(pg.perPodBroker), '', ''],
    [
      `agent: Postgres sessions for ${pg.onPaper.pods} pods, broker in each pod`,
      `${pg.onPaper.brokerPerPod} at this load, up to ${pg.onPaper.brokerPerPodAtPoolLimit} (pool 20 + LISTEN)`,
      '',
      '',
    ],
    [
      `agent: Postgres sessions for ${pg.onPaper.pods} pods, agent in each pod`,
      `${pg.onPaper.agentPerPod} (the central's only, whatever the number of pods)`,
      '',
      '',
    ],
  ];
}

module.exports = { run: agentSection, rows };
