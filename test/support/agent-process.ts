import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { freePort } from './broker-process';
import { runToExit, ServiceProcess, startService } from './child-process';

const REPO_ROOT = process.cwd();
export const AGENT_MAIN = resolve(REPO_ROOT, 'dist/apps/agent/src/main.js');
/**
 * The runtime flags of `npm run start:agent` (which the manifest shares, test/deploy checks), so
 * tests run the agent as pods run it.
 */
export const AGENT_NODE_FLAGS = (
  JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
).scripts['start:agent']
  .trim()
  .split(/\s+/)
  .filter((part) => part.startsWith('--'));

export interface AgentProcess extends ServiceProcess {
  /** The exact environment the process was given. */
  env: Record<string, string>;
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
  const started = await startService({
    name: 'agent',
    args: [...AGENT_NODE_FLAGS, AGENT_MAIN],
    env,
    cwd: REPO_ROOT,
    port,
    healthPath: waitReady ? '/health/ready' : '/health/live',
    timeoutMs,
    pollMs: 50,
  });
  return { ...started, env };
}

/** Runs the agent expecting it to exit at start; resolves its exit code and output. */
export function runAgentToExit(
  variables: Record<string, string>,
  timeoutMs = 10_000,
): Promise<{ code: number | null; output: string }> {
  return runToExit({
    name: 'agent',
    args: [...AGENT_NODE_FLAGS, AGENT_MAIN],
    env: agentEnv(variables),
    cwd: REPO_ROOT,
    timeoutMs,
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
