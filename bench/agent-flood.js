// The agent flooded with distinct connection keys (security review, finding 6): every key is
// well formed and the broker stand-in answers each with a token (the worst case: each entry holds
// a token and a read-ahead timer), as `npm run start:agent` runs it (32 MB heap). Prints the
// agent's cached connections, heap and RSS as the flood grows, from its own /metrics.
// Run: npm run build && node bench/agent-flood.js [keys] [maxConnections]
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, writeFileSync } = require('node:fs');
const { createServer } = require('node:http');
const { tmpdir } = require('node:os');
const path = require('node:path');

const KEYS = Number(process.argv[2] ?? 50_000);
const MAX_CONNECTIONS = process.argv[3]; // unset: the agent's default
const CONCURRENCY = 32;
const ROOT = path.resolve(__dirname, '..');

function standInBroker() {
  let issued = 0;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.url.startsWith('/caller')) return res.end(JSON.stringify({ name: 'flood', kind: 'api_key' }));
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
    res.end(
      JSON.stringify({
        accessToken: `token-${++issued}-${'x'.repeat(900)}`,
        tokenType: 'Bearer',
        expiresAt,
        expiresIn: 3600,
        scope: 'read write',
      }),
    );
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function metric(agentUrl, name) {
  const text = await (await fetch(`${agentUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : NaN;
}

// The agent exports no process metrics: its heap comes from a preloaded reporter on stderr, its
// RSS from /proc.
const HEAP_REPORTER = path.join(mkdtempSync(path.join(tmpdir(), 'agent-flood-')), 'heap.js');
writeFileSync(
  HEAP_REPORTER,
  "setInterval(() => process.stderr.write('HEAP ' + process.memoryUsage().heapUsed + '\\n'), 100).unref();\n",
);
let lastHeap = NaN;
const rssOf = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;

async function main() {
  const broker = await standInBroker();
  const brokerUrl = `http://127.0.0.1:${broker.address().port}`;
  const port = 17_000 + Math.floor(Math.random() * 1000);
  const agent = spawn(
    process.execPath,
    [
      '--max-old-space-size=32',
      '--max-semi-space-size=1',
      '--require',
      HEAP_REPORTER,
      path.join(ROOT, 'dist/apps/agent/src/main.js'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        AGENT_BROKER_URL: brokerUrl,
        AGENT_API_KEY: 'tb_flood',
        AGENT_PORT: String(port),
        AGENT_LOG_LEVEL: 'warn',
        ...(MAX_CONNECTIONS ? { AGENT_CACHE_MAX_CONNECTIONS: MAX_CONNECTIONS } : {}),
      },
      stdio: ['ignore', 'inherit', 'pipe'],
    },
  );
  agent.stderr.setEncoding('utf8');
  agent.stderr.on('data', (chunk) => {
    for (const line of chunk.split('\n')) {
      if (line.startsWith('HEAP ')) lastHeap = Number(line.slice(5));
      else if (line.trim()) process.stderr.write(`${line}\n`);
    }
  });
  const agentUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`${agentUrl}/health/ready`)).status === 200) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const report = async (sent) => {
    const cached = await metric(agentUrl, 'agent_cached_connections');
    await new Promise((r) => setTimeout(r, 150));
    const heap = lastHeap;
    const rss = rssOf(agent.pid);
    console.log(
      `${String(sent).padStart(7)} keys  cached ${String(cached).padStart(6)}  heap ${(heap / 2 ** 20).toFixed(1)} MB  rss ${(rss / 2 ** 20).toFixed(1)} MB`,
    );
  };
  console.log(
    `agent flood: ${KEYS} distinct keys, AGENT_CACHE_MAX_CONNECTIONS=${MAX_CONNECTIONS ?? 'default'}, 32 MB heap`,
  );
  await report(0);
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < KEYS) {
      const key = `flood-${next++}`;
      const response = await fetch(`${agentUrl}/tokens/${key}`);
      await response.arrayBuffer();
      if (response.status !== 200) failures += 1;
    }
  };
  const step = Math.max(1, Math.floor(KEYS / 5));
  const reporter = (async () => {
    let reported = 0;
    while (next < KEYS) {
      await new Promise((r) => setTimeout(r, 200));
      if (next - reported >= step) {
        reported = next;
        await report(next);
      }
    }
  })();
  await Promise.all([...Array.from({ length: CONCURRENCY }, worker), reporter]);
  await report(KEYS);
  console.log(`non-200 answers: ${failures}; agent alive: ${agent.exitCode === null}`);
  agent.kill('SIGTERM');
  broker.close();
  broker.closeAllConnections();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
