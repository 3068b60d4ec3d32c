import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runToExit, ServiceProcess, startService } from './child-process';

export const BROKER_MAIN = resolve(process.cwd(), 'dist/apps/broker/src/main.js');
export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef-0123456789';
export const ENCRYPTION_KEYS = `k1:${Buffer.alloc(32, 7).toString('base64')}`;

export type BrokerProcess = ServiceProcess;

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * The working directory of every spawned broker: empty, so the broker finds no `.env` there (it
 * reads `.env` from its working directory), whatever `npm run first-look` left in the repository.
 * A cwd rather than a switch in the broker: the product keeps one way to read its configuration,
 * and a test cannot pick up other files from the repository by accident either.
 */
export const BROKER_CWD = mkdtempSync(join(tmpdir(), 'broker-test-cwd-'));
process.once('exit', () => rmSync(BROKER_CWD, { recursive: true, force: true }));

/**
 * Env for a broker child process, built from scratch: only PATH and HOME of the jest run (never
 * its NODE_OPTIONS, DATABASE_URL or anything a developer exported), then what the test means.
 */
export function brokerEnv(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LOG_LEVEL: 'warn',
    BROKER_ENCRYPTION_KEYS: ENCRYPTION_KEYS,
    BROKER_ADMIN_TOKEN: ADMIN_TOKEN,
    BROKER_HOST: '127.0.0.1',
    // Suites force an upstream refresh with a large minValidity, one read after another; the
    // production default (30 s between reader-driven refreshes) is tested by security.e2e-spec.ts,
    // which passes `BROKER_MIN_REFRESH_INTERVAL_SECONDS: undefined` to get it.
    BROKER_MIN_REFRESH_INTERVAL_SECONDS: '0',
    // The sandbox listens on loopback; production refuses loopback provider endpoints.
    BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS: 'true',
    ...overrides,
  };
}

/** Starts a built broker and resolves once /health/ready answers 200. */
export async function startBroker(
  overrides: Record<string, string | undefined>,
  timeoutMs = 20_000,
): Promise<BrokerProcess> {
  const port = overrides.PORT ? Number(overrides.PORT) : await freePort();
  const env = brokerEnv({ PORT: String(port), ...overrides });
  return startService({
    name: 'broker',
    args: [BROKER_MAIN],
    env,
    cwd: BROKER_CWD,
    port,
    healthPath: '/health/ready',
    timeoutMs,
    pollMs: 100,
  });
}

/** Runs the broker expecting it to exit at start; resolves its exit code and output. */
export function runBrokerToExit(
  env: NodeJS.ProcessEnv,
  timeoutMs = 15_000,
): Promise<{ code: number | null; output: string }> {
  return runToExit({ name: 'broker', args: [BROKER_MAIN], env, cwd: BROKER_CWD, timeoutMs });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

export function randomSuffix(): string {
  return randomBytes(4).toString('hex');
}
