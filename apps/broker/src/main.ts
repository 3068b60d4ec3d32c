// First: the tracing SDK, when on, must be in place before pg and ioredis load.
import { shutdownTracing } from './tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { configureProviderHosts } from '@broker/providers';
import { loadEnvironmentOrExit } from './config/load-environment';
import { runMigrations } from './database/run-migrations';
import { AppModule } from './app.module';
import { BrokerExceptionFilter } from './common/broker-exception.filter';
import { mountSwagger } from './openapi/swagger';
import { IMPORT_BODY_LIMIT_BYTES, IMPORT_ROUTE } from './connections/connection.dto';
import { registerSecurityHeaders } from './security/http-headers';
import { registerAdminRequestHook } from './security/admin-request-hook';
import { createAppLogger, logRequests, logUnmatchedRequest } from './logging';

/** Nest's Fastify adapter, with the request-log hook on the not-found handler as on every logged route. */
class BrokerFastifyAdapter extends FastifyAdapter {
  override setNotFoundHandler(handler: Parameters<FastifyAdapter['setNotFoundHandler']>[0]) {
    // Fastify applies every lifecycle hook given here to the 404 context, not only the two it types.
    const hooks = { onResponse: logUnmatchedRequest } as Parameters<
      typeof this.instance.setNotFoundHandler
    >[0];
    return this.instance.setNotFoundHandler(hooks, handler as never);
  }
}

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

  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(env, configModule),
    new BrokerFastifyAdapter({
      bodyLimit: 64 * 1024,
      return503OnClosing: true,
      // Whose X-Forwarded-For names the client (request.ip): by default no one's.
      trustProxy: env.trustedProxies,
      routerOptions: { maxParamLength: 500 },
      // The broker uses no Nest middleware: without this, @fastify/middie adds an onRequest hook
      // to every request, the token path included. (Middleware added later fails at start-up.)
      skipMiddie: true,
      // Errors the router raises before Nest sees the request (a path parameter too long, a
      // malformed URL) get the same body as every other error.
      frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
        const statusCode = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
        void reply.status(statusCode).send({ statusCode, error: 'bad_request', message: error.message });
      },
    }),
    { logger },
  );
  logRequests(app.getHttpAdapter().getInstance());
  // The bulk import alone takes up to 1,000 connections in one body; routes are added at listen().
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route) => {
      if (route.url === IMPORT_ROUTE && route.method === 'POST') route.bodyLimit = IMPORT_BODY_LIMIT_BYTES;
    });
  app.useGlobalFilters(new BrokerExceptionFilter());
  registerSecurityHeaders(app, env);
  if (env.adminApiEnabled) {
    // After the security headers: refused admin requests carry them too.
    registerAdminRequestHook(app);
    mountSwagger(app, env);
  }

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
