import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEntity } from '../model/connection.entity';
import { IntegrationEntity } from '../model/integration.entity';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';

@Module({
  imports: [TypeOrmModule.forFeature([IntegrationEntity, ConnectionEntity])],
  providers: [IntegrationsService],
  exports: [IntegrationsService, TypeOrmModule],
})
export class IntegrationsModule {}

/** The admin HTTP surface of integrations, mounted only where the admin API is on. */
@Module({ imports: [IntegrationsModule], controllers: [IntegrationsController] })
export class IntegrationsHttpModule {}
