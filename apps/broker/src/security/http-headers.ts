import helmet, { HelmetOptions } from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, RouteOptions } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BrokerEnvironment } from '../config/environment';

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

type HelmetMiddleware = ReturnType<typeof helmet>;

/**
 * With admin sign-in, Swagger UI's pages differ in two ways. The page may call the identity
 * provider's origin (the authorization code is exchanged from the browser: a public client with
 * PKCE). And sign-in runs in a popup that hands the code back to its opener: `/docs` lets its
 * popups keep their opener (`same-origin-allow-popups`), and the redirect page coming back from the
 * provider must not be isolated from it (`unsafe-none`), or the code never reaches Swagger UI.
 */
function docsHelmetOptions(
  env: BrokerEnvironment,
  coop: 'same-origin-allow-popups' | 'unsafe-none',
): HelmetOptions {
  const directives = {
    ...(HELMET_OPTIONS.contentSecurityPolicy as { directives: Record<string, string[]> }).directives,
  };
  if (env.BROKER_ADMIN_OIDC_ISSUER) {
    directives.connectSrc = [...directives.connectSrc, new URL(env.BROKER_ADMIN_OIDC_ISSUER).origin];
  }
  return {
    ...HELMET_OPTIONS,
    contentSecurityPolicy: { useDefaults: false, directives },
    crossOriginOpenerPolicy: { policy: coop },
  };
}

function hookOf(middleware: HelmetMiddleware) {
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    middleware(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined));
  };
}

const OAUTH2_REDIRECT_PAGE = '/docs/oauth2-redirect.html';

/**
 * Helmet's headers on every route but the token path, as a hook of each route rather than a global
 * one. `@fastify/helmet` was measured first: even for a route it skips, its two global `onRequest`
 * hooks (one async) cost about 3 µs of CPU per request, a tenth of the token path's whole budget,
 * so this applies `helmet` itself (the package @fastify/helmet wraps, same options) per route.
 * Registered before Swagger UI's routes, so they get it too.
 */
export function registerSecurityHeaders(app: NestFastifyApplication, env: BrokerEnvironment): void {
  // Each helmet middleware is built once (building it is what costs: @fastify/helmet does it per request).
  const setHelmetHeaders = hookOf(helmet(HELMET_OPTIONS));
  let setDocsHeaders = setHelmetHeaders;
  if (env.adminSignInEnabled) {
    const page = helmet(docsHelmetOptions(env, 'same-origin-allow-popups'));
    const redirect = helmet(docsHelmetOptions(env, 'unsafe-none'));
    setDocsHeaders = hookOf(
      (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) =>
        (request.url?.split('?')[0] === OAUTH2_REDIRECT_PAGE ? redirect : page)(request, response, next),
    );
  }
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRoute', (route: RouteOptions) => {
      const config = route.config as { securityHeaders?: string } | undefined;
      if (config?.securityHeaders === NOSNIFF_ONLY_ROUTE.securityHeaders) return;
      const existing = route.onRequest ? [route.onRequest].flat() : [];
      route.onRequest = [...existing, route.url.startsWith('/docs') ? setDocsHeaders : setHelmetHeaders];
    });
}
