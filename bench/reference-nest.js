// The framework's own floor: a minimal NestJS + Fastify app with one guard, answering the token
// JSON from memory. Decorators are applied by hand so the file runs without a build step.
// Started by bench/run.js as its own process: node reference-nest.js <port> <key>
require('reflect-metadata');

const [port, apiKey] = process.argv.slice(2);

async function main() {
  const { Controller, Get, Header, Injectable, Module, Param, UseGuards, UnauthorizedException } =
    await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  const token = {
    accessToken: 'x'.repeat(43),
    tokenType: 'Bearer',
    expiresAt: new Date(Date.now() + 3600e3).toISOString(),
    scope: 'data-access:all',
  };

  class KeyGuard {
    canActivate(context) {
      const request = context.switchToHttp().getRequest();
      if (request.headers.authorization !== `Bearer ${apiKey}`) throw new UnauthorizedException();
      return true;
    }
  }
  Injectable()(KeyGuard);

  class TokensController {
    get(_connection) {
      return {
        ...token,
        connection: undefined,
        expiresIn: Math.floor((Date.parse(token.expiresAt) - Date.now()) / 1000),
      };
    }
  }
  const descriptor = Object.getOwnPropertyDescriptor(TokensController.prototype, 'get');
  Reflect.defineMetadata('design:paramtypes', [String], TokensController.prototype, 'get');
  Param('connection')(TokensController.prototype, 'get', 0);
  Get(':connection')(TokensController.prototype, 'get', descriptor);
  Header('Cache-Control', 'no-store')(TokensController.prototype, 'get', descriptor);
  UseGuards(KeyGuard)(TokensController);
  Controller('tokens')(TokensController);

  class AppModule {}
  Module({ controllers: [TokensController], providers: [KeyGuard] })(AppModule);

  const app = await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false });
  await app.listen(Number(port), '127.0.0.1');
  process.send?.('ready');
}

main();
