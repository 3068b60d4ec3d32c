import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEventsModule } from '../event-bus/connection-events.module';
import { ClientEntity } from './client.entity';
import { CallerGuard } from './caller.guard';
import { CallerController } from './caller.controller';
import { ClientsController } from './clients.controller';
import { ClientsService } from './clients.service';
import { SA_TOKEN_CACHE_ENTRIES, ServiceAccountVerifier } from './service-account-verifier';
import { VerifiedTokenCache } from './verified-token-cache';

@Module({
  imports: [TypeOrmModule.forFeature([ClientEntity]), ConnectionEventsModule],
  providers: [
    ClientsService,
    CallerGuard,
    ServiceAccountVerifier,
    { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache<string>(SA_TOKEN_CACHE_ENTRIES) },
  ],
  exports: [ClientsService, CallerGuard, ServiceAccountVerifier],
})
export class ClientsModule {}

/** The admin HTTP surface of clients. */
@Module({ imports: [ClientsModule], controllers: [ClientsController] })
export class ClientsHttpModule {}

/** `GET /caller` ("who am I") for calling services, for the api role. */
@Module({ imports: [ClientsModule], controllers: [CallerController] })
export class CallerHttpModule {}
