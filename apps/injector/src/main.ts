import pino from 'pino';
import { InjectorEnvironmentError, parseInjectorEnvironment } from './environment';
import { startInjector } from './injector';

/** Entry of the agent injector, the mutating admission webhook (`npm run start:injector`). */
async function main(): Promise<void> {
  let env;
  try {
    env = parseInjectorEnvironment(process.env);
  } catch (error) {
    if (!(error instanceof InjectorEnvironmentError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(1);
  }
  const logger = pino({ level: env.logLevel, base: { app: 'token-agent-injector', pid: process.pid } });
  const injector = await startInjector(env, logger);

  // SIGTERM: stop taking reviews, answer those in flight, exit 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    injector.close().then(
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
  process.stderr.write(`agent injector failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
