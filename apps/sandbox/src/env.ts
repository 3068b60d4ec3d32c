import type { SandboxOptions } from './sandbox';

export interface SandboxEnv {
  readonly port: number;
  readonly host: string;
  readonly options: SandboxOptions;
}

/** A malformed variable; the message names it and is meant to be printed as is. */
export class SandboxEnvError extends Error {}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the sandbox process's settings from the environment: SANDBOX_PORT (default 4000), SANDBOX_HOST
 * (default 127.0.0.1), SANDBOX_AUTO_APPROVE (default false), SANDBOX_ACCESS_TOKEN_TTL,
 * SANDBOX_REFRESH_TOKEN_TTL and SANDBOX_BLOOM_TOKEN_TTL (seconds), SANDBOX_TOKEN_LATENCY_MS,
 * SANDBOX_MAX_RECORDS (codes, access and refresh tokens kept per kind; default 100,000).
 * Unset or blank variables keep the defaults.
 */
export function readSandboxEnv(env: Env): SandboxEnv {
  return {
    port: integer(env, 'SANDBOX_PORT', 0, 65535) ?? 4000,
    host: valueOf(env, 'SANDBOX_HOST') ?? '127.0.0.1',
    options: {
      autoApprove: boolean(env, 'SANDBOX_AUTO_APPROVE'),
      accessTokenTtlSeconds: integer(env, 'SANDBOX_ACCESS_TOKEN_TTL', 1),
      refreshTokenTtlSeconds: integer(env, 'SANDBOX_REFRESH_TOKEN_TTL', 1),
      bloomTokenTtlSeconds: integer(env, 'SANDBOX_BLOOM_TOKEN_TTL', 1),
      tokenLatencyMs: integer(env, 'SANDBOX_TOKEN_LATENCY_MS', 0),
      maxRecordsPerKind: integer(env, 'SANDBOX_MAX_RECORDS', 1),
    },
  };
}

function valueOf(env: Env, name: string): string | undefined {
  return env[name]?.trim() || undefined;
}

function integer(env: Env, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = valueOf(env, name);
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new SandboxEnvError(`${name} must be a whole number ${range}, got "${env[name]}".`);
  }
  return parsed;
}

function boolean(env: Env, name: string): boolean | undefined {
  const value = valueOf(env, name)?.toLowerCase();
  if (value === undefined) return undefined;
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new SandboxEnvError(`${name} must be true or false, got "${env[name]}".`);
}
