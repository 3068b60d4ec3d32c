import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DynamicModule } from '@nestjs/common';
import { validateEnvironment } from '../config/environment';
import { AppModule } from '../app.module';
import { buildOpenApiDocument } from './swagger';

/**
 * Writes the OpenAPI document of the full API (role `all`, admin API on) to docs/openapi.json.
 * Preview mode builds the module graph without connecting to Postgres or Redis.
 */
async function main(): Promise<void> {
  const env = validateEnvironment({
    BROKER_ENCRYPTION_KEYS: `doc:${Buffer.alloc(32).toString('base64')}`,
    BROKER_ADMIN_TOKEN: 'x'.repeat(32),
  });
  const configModule: DynamicModule = { module: class OpenApiConfig {} };
  const app = await NestFactory.create(AppModule.forRoot(env, configModule), new FastifyAdapter(), {
    preview: true,
    logger: ['error'],
  });
  const document = buildOpenApiDocument(app);
  const target = resolve(process.argv[2] ?? 'docs/openapi.json');
  writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(`wrote ${target}\n`);
  await app.close();
}

void main();
