import { Module } from '@nestjs/common';
import { AdminIdentitiesModule } from '../admin-identities/admin-identities.module';
import { AdminTokensController } from './admin-tokens.controller';

/** The admin HTTP surface of named admin tokens. */
@Module({ imports: [AdminIdentitiesModule], controllers: [AdminTokensController] })
export class AdminTokensHttpModule {}
