import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEntity } from '../connections/connection.entity';
import { IntegrationsModule } from '../integrations/integrations.module';
import { RefreshQueueModule } from '../scheduler/refresh-queue.module';
import { ClientsModule } from '../clients/clients.module';
import { EventsModule } from '../events/events.module';
import { TokenCache } from './token-cache';
import { TokenRefresher } from './token-refresher';
import { RotatedTokenGuard } from './rotated-token-guard';
import { TokenStore } from './token-store';
import { TokensController } from './tokens.controller';
import { TokensService } from './tokens.service';

/** Token storage, the per-replica cache and the single-flight refresher, shared by every role. */
@Module({
  imports: [
    TypeOrmModule.forFeature([ConnectionEntity]),
    IntegrationsModule,
    RefreshQueueModule,
    EventsModule,
  ],
  providers: [TokenStore, TokenCache, TokenRefresher, RotatedTokenGuard],
  exports: [TokenStore, TokenCache, TokenRefresher],
})
export class TokensModule {}

/** `GET /tokens/:connection`, for the api role. */
@Module({
  imports: [TokensModule, ClientsModule],
  providers: [TokensService],
  controllers: [TokensController],
})
export class TokensHttpModule {}
