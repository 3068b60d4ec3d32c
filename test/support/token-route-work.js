// Run by test/token-route-work.e2e-spec.ts in a child Node: builds the broker's HTTP application
// from the build (`dist/`) exactly as main.ts does, with the environment it is given, and prints
// as JSON, to the file named by its second argument, what the token route runs. A child process, because the broker's module graph loads
// as CommonJS over ESM-only packages the way Node runs it, not the way jest's loader does.
require('reflect-metadata');
const { writeFileSync } = require('node:fs');
const path = require('node:path');
const dist = (file) => require(path.resolve('dist/apps/broker/src', file));
const { validateEnvironment } = dist('config/environment.js');
const { createHttpApp } = dist('http-app.js');
const { TokensController } = dist('tokens/tokens.controller.js');

const REQUEST_HOOKS = [
  'onRequest',
  'preParsing',
  'preValidation',
  'preHandler',
  'preSerialization',
  'onSend',
  'onResponse',
  'onTimeout',
  'onError',
  'onRequestAbort',
];

async function main() {
  const { ApplicationConfig } = await import('@nestjs/core');
  const { GUARDS_METADATA, INTERCEPTORS_METADATA, PIPES_METADATA } =
    await import('@nestjs/common/constants.js');
  const { Logger } = await import('@nestjs/common');
  const env = validateEnvironment(JSON.parse(process.argv[2]));
  const app = await createHttpApp(env, { module: class TokenRouteWorkConfig {} }, new Logger());
  const fastify = app.getHttpAdapter().getInstance();
  const routes = {};
  // Registered last, so it sees each route as every other onRoute hook left it.
  fastify.addHook('onRoute', (route) => {
    routes[`${route.method} ${route.url}`] = Object.fromEntries(
      REQUEST_HOOKS.map((hook) => [hook, [route[hook] ?? []].flat().length]).filter(([, count]) => count),
    );
  });
  await app.init();
  const handler = TokensController.prototype.getToken;
  const enhancers = (target) => ({
    guards: (Reflect.getMetadata(GUARDS_METADATA, target) ?? []).map((guard) => guard.name),
    interceptors: (Reflect.getMetadata(INTERCEPTORS_METADATA, target) ?? []).length,
    pipes: (Reflect.getMetadata(PIPES_METADATA, target) ?? []).length,
  });
  // Nest keeps the application's global enhancers in its ApplicationConfig.
  const config = app.config;
  const global = config instanceof ApplicationConfig && {
    guards: config.getGlobalGuards().length + config.getGlobalRequestGuards().length,
    interceptors: config.getGlobalInterceptors().length + config.getGlobalRequestInterceptors().length,
    pipes: config.getGlobalPipes().length + config.getGlobalRequestPipes().length,
  };
  // Hooks added with fastify.addHook() run on every route of the instance; Fastify keeps them
  // under its `fastify.hooks` symbol (a missing symbol fails the spec rather than passing it).
  const hooksSymbol = Object.getOwnPropertySymbols(fastify).find(
    (symbol) => symbol.description === 'fastify.hooks',
  );
  const instanceHooks = Object.fromEntries(
    REQUEST_HOOKS.map((hook) => [hook, fastify[hooksSymbol][hook].length]).filter(([, count]) => count),
  );
  writeFileSync(
    process.argv[3],
    JSON.stringify({
      routes,
      controller: enhancers(TokensController),
      handler: enhancers(handler),
      global,
      instanceHooks,
    }),
  );
  await app.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(1);
  },
);
