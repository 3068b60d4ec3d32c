// First: the tracing SDK, when on, must be in place before pg and ioredis load.
import { shutdownTracing } from './tracing';
import 'reflect-metadata';
import { configureProviderHosts } from '@broker/providers';
import { loadEnvironmentOrExit } from './config/load-environment';
import { runMigrations } from './database/run-migrations';
import { createHttpApp } from './http-app';
import { createAppLogger } from './logging';

async function bootstrap(): Promise<void> {
  const { env, configModule } = await loadEnvironmentOrExit();
  configureProviderHosts({
    allowPrivate: env.BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS,
    allowLoopback: env.BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS,
  });
  const logger = createAppLogger(env);
  if (env.BROKER_AUTO_MIGRATE) {
    try {
      await runMigrations(env.DATABASE_URL);
    } catch (error) {
      process.stderr.write(`Migration failed: ${(error as Error).message}\n`);
      process.exit(1);
    }
  }

  const app = await createHttpApp(env, configModule, logger);

  // SIGTERM: stop taking requests, let those in flight (and running refresh jobs) finish, exit 0.
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(0), env.BROKER_SHUTDOWN_GRACE_MS);
    deadline.unref();
    app
      .close()
      .then(() => shutdownTracing())
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  await app.listen(env.PORT, env.BROKER_HOST);
  logger.log({ url: await app.getUrl(), role: env.BROKER_ROLE }, 'token broker listening');
}

void bootstrap();
