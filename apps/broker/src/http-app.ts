import { DynamicModule, LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { BrokerEnvironment } from './config/environment';
import { AppModule } from './app.module';
import { BrokerExceptionFilter } from './common/broker-exception.filter';
import { mountSwagger } from './openapi/swagger';
import { IMPORT_BODY_LIMIT_BYTES, IMPORT_ROUTE } from './connections/connection.dto';
import { registerSecurityHeaders } from './security/http-headers';
import { registerAdminRequestHook } from './security/admin-request-hook';
import { logRequests, logUnmatchedRequest } from './logging';

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

/**
 * The broker's HTTP application for its role, with every hook, filter and page it serves; not yet
 * listening. The process entry (`main.ts`) and the spec that lists what the token route runs
 * build it the same way.
 */
export async function createHttpApp(
  env: BrokerEnvironment,
  configModule: DynamicModule,
  logger: LoggerService,
): Promise<NestFastifyApplication> {
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

  return app;
}
