import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IntegrationEntity } from '../model/integration.entity';
import { IntegrationsModule } from '../integrations/integrations.module';
import { RefreshQueueModule } from '../scheduler/refresh-queue.module';
import { TokensModule } from '../tokens/tokens.module';
import { AuthorizationFlow } from './authorization-flow';
import { ConnectionImporter } from './connection-importer';
import { ConnectionEntity } from '../model/connection.entity';
import { ConnectionsController } from './connections.controller';
import { ConnectionsService } from './connections.service';
import { OAuthCallbackController } from './oauth-callback.controller';
import { OAuthStateEntity } from './oauth-state.entity';
import { TableStatistics } from './table-statistics';

@Module({
  imports: [
    TypeOrmModule.forFeature([ConnectionEntity, IntegrationEntity, OAuthStateEntity]),
    IntegrationsModule,
    TokensModule,
    RefreshQueueModule,
  ],
  providers: [ConnectionsService, AuthorizationFlow, ConnectionImporter, TableStatistics],
  exports: [ConnectionsService, AuthorizationFlow],
})
export class ConnectionsModule {}

/** The admin HTTP surface of connections. */
@Module({ imports: [ConnectionsModule], controllers: [ConnectionsController] })
export class ConnectionsHttpModule {}

/** `GET /oauth/callback`, public, for the api role. */
@Module({ imports: [ConnectionsModule], controllers: [OAuthCallbackController] })
export class OAuthCallbackHttpModule {}
