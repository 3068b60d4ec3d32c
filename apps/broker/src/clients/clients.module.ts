import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClientEntity } from './client.entity';
import { CallerGuard } from './caller.guard';
import { ClientsController } from './clients.controller';
import { ClientsService } from './clients.service';

@Module({
  imports: [TypeOrmModule.forFeature([ClientEntity])],
  providers: [ClientsService, CallerGuard],
  exports: [ClientsService, CallerGuard],
})
export class ClientsModule {}

/** The admin HTTP surface of clients. */
@Module({ imports: [ClientsModule], controllers: [ClientsController] })
export class ClientsHttpModule {}
