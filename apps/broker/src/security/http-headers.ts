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
 * Route config for the token path (`@RouteConfig(NOSNIFF_ONLY_ROUTE)`): a JSON answer to services,
 * which no browser renders or frames, on the hot path. It gets no helmet hook (a route hook costs
 * about 1.5 µs per request there, 5 % of the route's CPU); its answers carry
 * `X-Content-Type-Options: nosniff` with its own headers, its errors through the exception filter.
 */
export const NOSNIFF_ONLY_ROUTE = { securityHeaders: 'nosniff-only' } as const;

/** Helmet's middleware, built once (building it is what costs: @fastify/helmet does it per request). */
const applyHelmet = helmet(HELMET_OPTIONS);

function setHelmetHeaders(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  applyHelmet(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
}

/**
 * Helmet's headers on every route but the token path, as a hook of each route rather than a global
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
      const config = route.config as { securityHeaders?: string } | undefined;
      if (config?.securityHeaders === NOSNIFF_ONLY_ROUTE.securityHeaders) return;
      const existing = route.onRequest ? [route.onRequest].flat() : [];
      route.onRequest = [...existing, setHelmetHeaders];
    });
}
