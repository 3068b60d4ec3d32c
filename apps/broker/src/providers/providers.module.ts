import { Module } from '@nestjs/common';
import { ProvidersController } from './providers.controller';

/** `GET /admin/providers`: the catalogue, read-only data from `@broker/providers`. */
@Module({ controllers: [ProvidersController] })
export class ProvidersHttpModule {}
