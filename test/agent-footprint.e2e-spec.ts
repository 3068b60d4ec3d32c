import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AGENT_MAIN, AGENT_NODE_FLAGS, agentEnv, runAgentToExit, startAgent } from './support/agent-process';
import { freePort } from './support/broker-process';

/** What the agent must never load: the broker's database, queue, keyring, framework and docs stacks. */
const FORBIDDEN = [
  /node_modules\/typeorm\//,
  /node_modules\/pg(-pool|-protocol)?\//,
  /node_modules\/bullmq\//,
  /node_modules\/ioredis\//,
  /node_modules\/@nestjs\//,
  /node_modules\/swagger-ui-dist\//,
  /node_modules\/class-validator\//,
  /libs\/crypto\//,
  /apps\/broker\//,
];

describe('sidecar agent: what it loads, how it is configured', () => {
  let broker: Server;
  let brokerUrl: string;

  beforeAll(async () => {
    // A stand-in for the central broker's "who am I", enough for the agent to report ready.
    broker = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/caller' && req.headers.authorization === 'Bearer tbk_footprint') {
        res.end(JSON.stringify({ name: 'footprint', kind: 'api_key', connections: ['*'] }));
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ statusCode: 401, error: 'unauthorized', message: 'unknown API key' }));
      }
    });
    await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
    brokerUrl = `http://127.0.0.1:${(broker.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    broker.closeAllConnections();
    await new Promise((resolve) => broker.close(resolve));
  });

  it("loads none of TypeORM, pg, BullMQ, ioredis, the keyring, NestJS or Swagger (the built entry's module graph)", async () => {
    const port = await freePort();
    // Load the built entry as `npm run start:agent` does, wait until it is ready, then list every module it required.
    const script = `
      require(${JSON.stringify(AGENT_MAIN)});
      const deadline = Date.now() + 10000;
      (async function poll() {
        try {
          const res = await new Promise((resolve, reject) =>
            require('node:http').get('http://127.0.0.1:${port}/health/ready', resolve).on('error', reject));
          res.resume();
          if (res.statusCode === 200) {
            process.stdout.write('MODULES ' + JSON.stringify(Object.keys(require.cache)) + '\\n');
            process.exit(0);
          }
        } catch {}
        if (Date.now() > deadline) process.exit(2);
        setTimeout(poll, 50);
      })();
    `;
    const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, '-e', script], {
      env: agentEnv({
        AGENT_BROKER_URL: brokerUrl,
        AGENT_API_KEY: 'tbk_footprint',
        AGENT_PORT: String(port),
      }),
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    const modules: string[] = JSON.parse(/^MODULES (.*)$/m.exec(output)![1]);
    // The list is real: the agent's own files, the shared lib, pino and prom-client are in it.
    expect(modules).toEqual(
      expect.arrayContaining([
        AGENT_MAIN,
        expect.stringMatching(/dist\/libs\/token-api\/src\/token-api\.js$/),
        expect.stringMatching(/node_modules\/pino\//),
        expect.stringMatching(/node_modules\/prom-client\//),
      ]),
    );
    const loaded = modules.filter((path) => FORBIDDEN.some((pattern) => pattern.test(path)));
    expect(loaded).toEqual([]);
    console.log(`agent module graph: ${modules.length} modules, none of the broker's stacks`);
  });

  it('reports its footprint: idle RSS and start to ready, with the runtime flags of npm run start:agent', async () => {
    const started = Date.now();
    const agent = await startAgent({ AGENT_BROKER_URL: brokerUrl, AGENT_API_KEY: 'tbk_footprint' });
    const readyMs = Date.now() - started;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const status = readFileSync(`/proc/${agent.child.pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
      console.log(
        `agent footprint: ${(rssKb / 1024).toFixed(1)} MB idle RSS, ${readyMs} ms from spawn to ready ` +
          `(flags ${AGENT_NODE_FLAGS.join(' ')})`,
      );
    } finally {
      expect(await agent.stop()).toBe(0);
    }
  });

  it.each([
    [{}, /AGENT_BROKER_URL is required/],
    [{ AGENT_BROKER_URL: 'not a url', AGENT_API_KEY: 'k' }, /AGENT_BROKER_URL must be/],
    [{ AGENT_BROKER_URL: 'http://broker:3000' }, /AGENT_TOKEN_FILE .* or AGENT_API_KEY is required/],
    [
      { AGENT_BROKER_URL: 'http://broker:3000', AGENT_API_KEY: 'k', AGENT_TOKEN_FILE: '/etc/hostname' },
      /both set/,
    ],
    [
      { AGENT_BROKER_URL: 'http://broker:3000', AGENT_TOKEN_FILE: '/nonexistent/token' },
      /AGENT_TOKEN_FILE .* cannot be read/,
    ],
    [
      { AGENT_BROKER_URL: 'http://broker:3000', AGENT_API_KEY: 'k', AGENT_PORT: '70000' },
      /AGENT_PORT must be an integer/,
    ],
    [
      { AGENT_BROKER_URL: 'http://broker:3000', AGENT_API_KEY: 'k', AGENT_TOKNE_FILE: 'x' },
      /AGENT_TOKNE_FILE is not a known variable/,
    ],
  ])('stops at start with one line naming the bad variable (%o)', async (variables, message) => {
    const { code, output } = await runAgentToExit(variables as Record<string, string>);
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toMatch(message);
  });
});
