import { accessSync, constants } from 'node:fs';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The injector's configuration (docs/agent-injection.md). */
export interface InjectorEnvironment {
  /** The image the agent sidecar runs (the broker's image: the agent is one of its entry points). */
  agentImage: string;
  /** What the agent is given as `AGENT_BROKER_URL`: the central broker's token API. */
  brokerUrl: string;
  /** The audience of the projected ServiceAccount token the agent presents to the broker. */
  tokenAudience: string;
  /** Certificate and key files, re-read when they change; null: plain http on 127.0.0.1 (tests). */
  tls: { certFile: string; keyFile: string } | null;
  port: number;
  logLevel: LogLevel;
}

export class InjectorEnvironmentError extends Error {}

const KNOWN = [
  'INJECTOR_AGENT_IMAGE',
  'INJECTOR_BROKER_URL',
  'INJECTOR_TOKEN_AUDIENCE',
  'INJECTOR_TLS_CERT_FILE',
  'INJECTOR_TLS_KEY_FILE',
  'INJECTOR_LOG_LEVEL',
] as const;

/**
 * Reads and validates the injector's variables once, at start. Any problem throws an
 * `InjectorEnvironmentError` whose message names the variable; an unknown `INJECTOR_*` variable
 * is one too, so a typo never leaves a setting silently at its default.
 */
export function parseInjectorEnvironment(env: NodeJS.ProcessEnv): InjectorEnvironment {
  const unknown = Object.keys(env).filter(
    (name) => name.startsWith('INJECTOR_') && !(KNOWN as readonly string[]).includes(name),
  );
  if (unknown.length > 0) {
    throw new InjectorEnvironmentError(`${unknown[0]} is not a known variable (known: ${KNOWN.join(', ')})`);
  }
  const value = (name: (typeof KNOWN)[number] | 'PORT') => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };

  const agentImage = value('INJECTOR_AGENT_IMAGE');
  if (!agentImage) {
    throw new InjectorEnvironmentError(
      'INJECTOR_AGENT_IMAGE is required (the broker image, e.g. ghcr.io/example/token-broker:0.1.0)',
    );
  }
  // An image reference: registry/path[:tag][@digest], no spaces or shell characters.
  if (!/^[a-z0-9]([\w.\-/:]*[\w])?(@sha256:[a-f0-9]{64})?$/i.test(agentImage)) {
    throw new InjectorEnvironmentError(`INJECTOR_AGENT_IMAGE is not an image reference: "${agentImage}"`);
  }

  const rawUrl = value('INJECTOR_BROKER_URL');
  if (!rawUrl) {
    throw new InjectorEnvironmentError(
      'INJECTOR_BROKER_URL is required (the central broker, e.g. http://token-broker.token-broker.svc:3000)',
    );
  }
  let brokerUrl: URL;
  try {
    brokerUrl = new URL(rawUrl);
  } catch {
    throw new InjectorEnvironmentError('INJECTOR_BROKER_URL must be an absolute http(s) URL');
  }
  // The same rules as the agent's AGENT_BROKER_URL: a value the agent refuses would crash every pod.
  if (!['http:', 'https:'].includes(brokerUrl.protocol) || brokerUrl.search || brokerUrl.hash) {
    throw new InjectorEnvironmentError(
      'INJECTOR_BROKER_URL must be an http(s) URL without query or fragment',
    );
  }
  if (brokerUrl.username || brokerUrl.password) {
    throw new InjectorEnvironmentError('INJECTOR_BROKER_URL must not carry credentials');
  }

  const tokenAudience = value('INJECTOR_TOKEN_AUDIENCE') ?? 'token-broker';
  if (!/^[\x21-\x7e]+$/.test(tokenAudience)) {
    throw new InjectorEnvironmentError('INJECTOR_TOKEN_AUDIENCE must be one word of printable characters');
  }

  const certFile = value('INJECTOR_TLS_CERT_FILE');
  const keyFile = value('INJECTOR_TLS_KEY_FILE');
  if (!certFile !== !keyFile) {
    const missing = certFile ? 'INJECTOR_TLS_KEY_FILE' : 'INJECTOR_TLS_CERT_FILE';
    throw new InjectorEnvironmentError(
      `${missing} is required with ${certFile ? 'INJECTOR_TLS_CERT_FILE' : 'INJECTOR_TLS_KEY_FILE'} (set both, or neither for plain http on 127.0.0.1)`,
    );
  }
  if (certFile) assertReadable(certFile, 'INJECTOR_TLS_CERT_FILE');
  if (keyFile) assertReadable(keyFile, 'INJECTOR_TLS_KEY_FILE');

  return {
    agentImage,
    brokerUrl: rawUrl,
    tokenAudience,
    tls: certFile && keyFile ? { certFile, keyFile } : null,
    port: integer(value('PORT'), 'PORT', 8443, 0, 65_535),
    logLevel: oneOf(value('INJECTOR_LOG_LEVEL'), 'INJECTOR_LOG_LEVEL', 'info', LOG_LEVELS),
  };
}

function integer(raw: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new InjectorEnvironmentError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
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
    throw new InjectorEnvironmentError(`${name} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

function assertReadable(path: string, name: string): void {
  try {
    accessSync(path, constants.R_OK);
  } catch {
    throw new InjectorEnvironmentError(`${name} (${path}) cannot be read`);
  }
}
