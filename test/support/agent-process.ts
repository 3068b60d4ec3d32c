import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, sleep } from './broker-process';

const REPO_ROOT = process.cwd();
export const AGENT_MAIN = resolve(REPO_ROOT, 'dist/apps/agent/src/main.js');
/** The runtime flags of `npm run start:agent` (and of the manifest), so tests measure what pods run. */
export const AGENT_NODE_FLAGS = ['--max-old-space-size=32', '--max-semi-space-size=1'];

export interface AgentProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** The exact environment the process was given. */
  env: Record<string, string>;
  /** Everything the process wrote, stdout and stderr. */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * The environment of an agent child, built from nothing: PATH and what the test names. Nothing of
 * the test runner's environment (DATABASE_URL, keys, NODE_OPTIONS) leaks in, so a test can assert
 * what an agent holds.
 */
export function agentEnv(variables: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', AGENT_LOG_LEVEL: 'warn', ...variables };
}

/**
 * Starts the built agent with the repository root as its working directory (no `.env` is read
 * by the agent in any case) and resolves once it listens; with `waitReady`, once /health/ready is 200.
 */
export async function startAgent(
  variables: Record<string, string>,
  options: { waitReady?: boolean; timeoutMs?: number } = {},
): Promise<AgentProcess> {
  const { waitReady = true, timeoutMs = 10_000 } = options;
  const port = variables.AGENT_PORT ? Number(variables.AGENT_PORT) : await freePort();
  const env = agentEnv({ AGENT_PORT: String(port), ...variables });
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, AGENT_MAIN], {
    env,
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await fetch(`${url}/health/${waitReady ? 'ready' : 'live'}`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`agent not ${waitReady ? 'ready' : 'live'} within ${timeoutMs} ms:\n${output}`);
    }
    await sleep(50);
  }
  return {
    url,
    port,
    child,
    env,
    output: () => output,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Runs the agent expecting it to exit at start; resolves its exit code and output. */
export function runAgentToExit(
  variables: Record<string, string>,
  timeoutMs = 10_000,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, AGENT_MAIN], {
      env: agentEnv(variables),
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output });
    });
  });
}

/** A metric's value from Prometheus text (the sum over every series of that name matching `labels`). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`)))
      sum += Number(match[3]);
  }
  return sum;
}
