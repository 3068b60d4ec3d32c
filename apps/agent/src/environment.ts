import { accessSync, constants, readFileSync } from 'node:fs';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The agent's configuration: every variable starts with `AGENT_` (see the README's agent section). */
export interface AgentEnvironment {
  /** Base URL of the central broker's token API. */
  brokerUrl: URL;
  /** The credential the agent presents: a (rotated) token file, or a fixed API key. */
  credential: { kind: 'file'; path: string } | { kind: 'api_key'; value: string };
  host: string;
  port: number;
  /** How long one broker call may take before the broker counts as unreachable. */
  brokerTimeoutMs: number;
  /** Keep-alive connections the agent holds to the broker at most. */
  brokerMaxSockets: number;
  /** How long the broker's 403, 404 and 409 answers are held. */
  negativeCacheSeconds: number;
  /** A connection not read for this long is forgotten: no read-ahead, no memory. */
  forgetAfterSeconds: number;
  /** How long SIGTERM waits for requests in flight. */
  shutdownGraceMs: number;
  /** Connections the cache remembers at most (least recently read forgotten first). */
  cacheMaxConnections: number;
  /** When set, `/tokens/*` answers only requests carrying this header with this value (400 otherwise). */
  requireHeader: { name: string; value: string } | null;
  logLevel: LogLevel;
}

export class AgentEnvironmentError extends Error {}

const KNOWN = [
  'AGENT_BROKER_URL',
  'AGENT_TOKEN_FILE',
  'AGENT_API_KEY',
  'AGENT_HOST',
  'AGENT_PORT',
  'AGENT_BROKER_TIMEOUT_MS',
  'AGENT_BROKER_MAX_SOCKETS',
  'AGENT_NEGATIVE_CACHE_SECONDS',
  'AGENT_FORGET_AFTER_SECONDS',
  'AGENT_SHUTDOWN_GRACE_MS',
  'AGENT_LOG_LEVEL',
  'AGENT_CACHE_MAX_CONNECTIONS',
  'AGENT_REQUIRE_HEADER',
] as const;

/**
 * Reads and validates the agent's variables once, at start. Any problem throws an
 * `AgentEnvironmentError` whose message names the variable; an unknown `AGENT_*` variable is one
 * too, so a typo never leaves a setting silently at its default.
 */
export function parseAgentEnvironment(env: NodeJS.ProcessEnv): AgentEnvironment {
  const unknown = Object.keys(env).filter(
    (name) => name.startsWith('AGENT_') && !(KNOWN as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    throw new AgentEnvironmentError(`${unknown[0]} is not a known variable (known: ${KNOWN.join(', ')})`);
  }
  const value = (name: (typeof KNOWN)[number]) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  const rawUrl = value('AGENT_BROKER_URL');
  if (!rawUrl)
    throw new AgentEnvironmentError(
      'AGENT_BROKER_URL is required (the central broker, e.g. http://token-broker:3000)',
    );
  let brokerUrl: URL;
  try {
    brokerUrl = new URL(rawUrl);
  } catch {
    throw new AgentEnvironmentError('AGENT_BROKER_URL must be an absolute http(s) URL');
  }
  if (!['http:', 'https:'].includes(brokerUrl.protocol) || brokerUrl.search || brokerUrl.hash) {
    throw new AgentEnvironmentError('AGENT_BROKER_URL must be an http(s) URL without query or fragment');
  }
  if (brokerUrl.username || brokerUrl.password) {
    throw new AgentEnvironmentError(
      'AGENT_BROKER_URL must not carry credentials; use AGENT_TOKEN_FILE or AGENT_API_KEY',
    );
  }

  const tokenFile = value('AGENT_TOKEN_FILE');
  const apiKey = value('AGENT_API_KEY');
  if (tokenFile && apiKey) {
    throw new AgentEnvironmentError('AGENT_TOKEN_FILE and AGENT_API_KEY are both set; set exactly one');
  }
  if (!tokenFile && !apiKey) {
    throw new AgentEnvironmentError(
      'AGENT_TOKEN_FILE (a projected ServiceAccount token) or AGENT_API_KEY is required; set exactly one',
    );
  }
  if (tokenFile) assertReadableCredentialFile(tokenFile);

  const host = value('AGENT_HOST') ?? '127.0.0.1';
  return {
    brokerUrl,
    credential: tokenFile ? { kind: 'file', path: tokenFile } : { kind: 'api_key', value: apiKey! },
    host,
    port: integer(value('AGENT_PORT'), 'AGENT_PORT', 7070, 0, 65_535),
    brokerTimeoutMs: integer(
      value('AGENT_BROKER_TIMEOUT_MS'),
      'AGENT_BROKER_TIMEOUT_MS',
      15_000,
      100,
      300_000,
    ),
    brokerMaxSockets: integer(value('AGENT_BROKER_MAX_SOCKETS'), 'AGENT_BROKER_MAX_SOCKETS', 16, 1, 1024),
    negativeCacheSeconds: integer(
      value('AGENT_NEGATIVE_CACHE_SECONDS'),
      'AGENT_NEGATIVE_CACHE_SECONDS',
      5,
      0,
      300,
    ),
    forgetAfterSeconds: integer(
      value('AGENT_FORGET_AFTER_SECONDS'),
      'AGENT_FORGET_AFTER_SECONDS',
      600,
      10,
      86_400,
    ),
    shutdownGraceMs: integer(value('AGENT_SHUTDOWN_GRACE_MS'), 'AGENT_SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    logLevel: oneOf(value('AGENT_LOG_LEVEL'), 'AGENT_LOG_LEVEL', 'info', LOG_LEVELS),
    cacheMaxConnections: integer(
      value('AGENT_CACHE_MAX_CONNECTIONS'),
      'AGENT_CACHE_MAX_CONNECTIONS',
      1_000,
      1,
      1_000_000,
    ),
    requireHeader: requiredHeader(value('AGENT_REQUIRE_HEADER')),
  };
}

/** `AGENT_REQUIRE_HEADER`'s form, `Name: value` (the injector checks its annotation with it too). */
export const REQUIRE_HEADER_PATTERN = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(\S(?:.*\S)?)$/;

/** `Name: value`, e.g. `Metadata-Flavor: token-agent`: a header a browser-driven or SSRF request cannot add. */
function requiredHeader(raw: string | undefined): { name: string; value: string } | null {
  if (raw === undefined) return null;
  const match = REQUIRE_HEADER_PATTERN.exec(raw);
  if (!match) {
    throw new AgentEnvironmentError(
      'AGENT_REQUIRE_HEADER must be "Name: value", e.g. "Metadata-Flavor: token-agent"',
    );
  }
  return { name: match[1].toLowerCase(), value: match[2] };
}

function integer(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new AgentEnvironmentError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function oneOf<T extends string>(
  raw: string | undefined,
  name: string,
  fallback: T,
  allowed: readonly T[],
): T {
  if (raw === undefined) return fallback;
  if (!allowed.includes(raw as T))
    throw new AgentEnvironmentError(`${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function assertReadableCredentialFile(path: string): void {
  try {
    accessSync(path, constants.R_OK);
    if (readFileSync(path, 'utf8').trim() === '') throw new Error('empty');
  } catch (error) {
    const reason = (error as Error).message === 'empty' ? 'is empty' : 'cannot be read';
    throw new AgentEnvironmentError(`AGENT_TOKEN_FILE (${path}) ${reason}`);
  }
}
