import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEntity } from '../model/connection.entity';
import { IntegrationsModule } from '../integrations/integrations.module';
import { ClientsModule } from '../clients/clients.module';
import { ConnectionEventsModule } from '../event-bus/connection-events.module';
import { ReadRecorder } from './read-recorder';
import { TokenEvents } from './token-events';
import { TokenCache } from './token-cache';
import { TokenRefresher } from './token-refresher';
import { RotatedTokenGuard } from './rotated-token-guard';
import { TokenStore } from './token-store';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/**
 * Token storage, the per-replica cache, the single-flight refresher and what they announce
 * (planned refreshes, status changes), shared by every role.
 */
@Module({
  imports: [TypeOrmModule.forFeature([ConnectionEntity]), IntegrationsModule, ConnectionEventsModule],
  providers: [TokenStore, TokenCache, TokenRefresher, TokenEvents, ReadRecorder, RotatedTokenGuard],
  exports: [TokenStore, TokenCache, TokenRefresher, TokenEvents, ReadRecorder, ConnectionEventsModule],
})
export class TokensModule {}

/** `GET /tokens/:connection`, for the api role. */
@Module({
  imports: [TokensModule, ClientsModule],
  providers: [TokensService],
  controllers: [TokensController],
})
export class TokensHttpModule {}
