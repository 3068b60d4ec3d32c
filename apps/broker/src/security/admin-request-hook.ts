import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { SpanKind } from '@opentelemetry/api';
import { sendError } from '../common/broker-exception.filter';
import type { AdminRequest } from '../admin-identities/admin-identity';
import { ATTR, incomingContext, tracer, tracingEnabled, markFailed } from '../tracing/spans';
import { AdminAuthenticator } from './admin-authenticator';

const logger = new Logger('AdminAuth');

/** `METHOD /admin/route/:pattern`: how refusals and spans name a route (never its values). */
export function adminRouteName(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`;
}

/** Attribute of the admin server span naming how the caller proved who they are. */
export const ADMIN_ACTOR_KIND_ATTR = 'broker.admin.actor_kind';

/**
 * Checks the admin credential of every `/admin/*` route in an `onRequest` hook of that route:
 * Fastify reads and parses a body only after `onRequest`, so a request without a valid admin
 * credential is answered before any of its body is read (the bulk import takes 8 MiB). The
 * identity is left on the request for the guard (which checks the route's role) and the handler.
 *
 * With tracing on, the hook also opens the request's server span, continuing an incoming
 * `traceparent` (route, status, the credential's kind; never the credential), ended on response.
 * Registered after the security headers' hook, so refusals carry those headers too.
 */
export function registerAdminRequestHook(app: NestFastifyApplication): void {
  const authenticator = app.get(AdminAuthenticator);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route: RouteOptions) => {
    if (!/^\/admin(\/|$)/.test(route.url)) return;
    const onRequest = async (request: AdminRequest, reply: FastifyReply) => {
      const routeName = adminRouteName(request);
      const state = (request.admin ??= {});
      if (tracingEnabled()) {
        state.span = tracer.startSpan(
          routeName,
          {
            kind: SpanKind.SERVER,
            attributes: {
              [ATTR.httpMethod]: request.method,
              [ATTR.httpRoute]: request.routeOptions.url ?? '',
            },
          },
          incomingContext(request.headers),
        );
      }
      try {
        state.identity = await authenticator.authenticate(request, routeName);
        state.span?.setAttribute(ADMIN_ACTOR_KIND_ATTR, state.identity.kind);
      } catch (error) {
        if (state.span) markFailed(state.span, error);
        state.refused = true;
        sendError(reply, error, logger);
        return reply;
      }
    };
    const onResponse = async (request: AdminRequest, reply: FastifyReply) => {
      const span = request.admin?.span;
      if (!span) return;
      span.setAttribute(ATTR.httpStatus, reply.statusCode);
      span.end();
    };
    route.onRequest = [...(route.onRequest ? [route.onRequest].flat() : []), onRequest as never];
    route.onResponse = [...(route.onResponse ? [route.onResponse].flat() : []), onResponse as never];
  });
}
