import pino from 'pino';
import { AgentEnvironmentError, parseAgentEnvironment } from './environment';
import { startAgent } from './agent';

/** Entry of the sidecar agent (`npm run start:agent`). */
async function main(): Promise<void> {
  let env;
  try {
    env = parseAgentEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof AgentEnvironmentError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const logger = pino({ level: env.logLevel, base: { app: 'token-agent', pid: process.pid } });
  const agent = await startAgent(env, logger);

  // SIGTERM: stop taking requests, finish those in flight, exit 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    agent.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`token agent failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
