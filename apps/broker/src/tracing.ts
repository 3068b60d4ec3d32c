/*
 * Required first by main.ts: when tracing is on, the pg and ioredis instrumentations must be in
 * place before anything loads those modules. When it is off, no SDK module is loaded at all, and
 * the broker's spans meet the no-op tracer of @opentelemetry/api.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'dotenv';
import type { RunningTracing } from './tracing/tracing-sdk';
import {
  readTracingSettings,
  TRACING_VARIABLE_PREFIX,
  TracingSettingsError,
} from './tracing/tracing-settings';

/** `.env` is read later by the environment class; the OTEL_* part of it is needed now. */
function adoptDotEnvTracingVariables(): void {
  const file = resolve(process.cwd(), '.env');
  if (!existsSync(file)) return;
  for (const [name, value] of Object.entries(parse(readFileSync(file)))) {
    if (name.startsWith(TRACING_VARIABLE_PREFIX) && process.env[name] === undefined)
      process.env[name] = value;
  }
}

function start(): RunningTracing | null {
  adoptDotEnvTracingVariables();
  let settings;
  try {
    settings = readTracingSettings(process.env);
  } catch (error) {
    if (error instanceof TracingSettingsError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  if (!settings) return null;
  const { startTracing } = require('./tracing/tracing-sdk') as typeof import('./tracing/tracing-sdk');
  return startTracing(settings);
}

const running = start();

/**
 * Exports the buffered spans; main.ts awaits it on SIGTERM before the process exits. A trace
 * backend that cannot take them costs those spans (said on stderr), not the clean exit.
 */
export async function shutdownTracing(): Promise<void> {
  try {
    await running?.shutdown();
  } catch (error) {
    process.stderr.write(`Traces not exported at shutdown: ${(error as Error).message}\n`);
  }
}
