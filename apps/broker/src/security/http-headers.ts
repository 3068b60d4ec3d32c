import helmet, { HelmetOptions } from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';

/**
 * Helmet's headers with a Content-Security-Policy Swagger UI works under: its scripts are files
 * of `/docs` ('self'), its page and components use inline `<style>` and style attributes, its CSS
 * draws icons as data: images, "Try it out" calls the same origin. No page may frame ours.
 * `upgrade-insecure-requests` is left out: a broker reached over plain http inside a cluster
 * would have its `/docs` assets rewritten to https that nobody serves.
 */
export const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  frameguard: { action: 'deny' },
};

/**
 * The headers a hot JSON route sends instead of helmet's set: no sniffing the answer into HTML,
 * no framing, no content of any kind.
 */
export const LEAN_SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
} as const;

/**
 * Route config (`@RouteConfig(LEAN_HEADERS_ROUTE)`) for the token path: it sends
 * `LEAN_SECURITY_HEADERS`, three constant headers, on its error answers too.
 */
export const LEAN_HEADERS_ROUTE = { securityHeaders: 'lean' } as const;

/** Helmet's middleware, built once (building it is what costs: @fastify/helmet does it per request). */
const applyHelmet = helmet(HELMET_OPTIONS);

function setHelmetHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  applyHelmet(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
}

function setLeanHeaders(_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  void reply.headers(LEAN_SECURITY_HEADERS);
  done();
}

/**
 * Helmet's headers on every route but the lean ones, as a hook of each route rather than a global
 * one. `@fastify/helmet` was measured first: even for a route it skips, its two global `onRequest`
 * hooks (one async) cost about 3 µs of CPU per request, a tenth of the token path's whole budget,
 * so this applies `helmet` itself (the package @fastify/helmet wraps, same options) per route.
 * Registered before Swagger UI's routes, so they get it too.
 */
export function registerSecurityHeaders(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route: RouteOptions) => {
      const lean = (route.config as { securityHeaders?: string } | undefined)?.securityHeaders === 'lean';
      const existing = route.onRequest ? [route.onRequest].flat() : [];
      route.onRequest = [...existing, lean ? setLeanHeaders : setHelmetHeaders];
    });
}
