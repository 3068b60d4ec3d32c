import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminAuthenticator } from '../security/admin-authenticator';
import { ConnectionEventsModule } from '../tokens/connection-events.module';
import { AdminPersonEntity, AdminTokenEntity } from './admin-token.entity';
import { AdminTokensController } from './admin-tokens.controller';
import { AdminTokensService } from './admin-tokens.service';
import { OidcVerifier } from './oidc-verifier';

/**
 * Who may use the admin API: the bootstrap token, named admin tokens and signed-in people. Global,
 * so the admin guard of every feature's controllers finds the authenticator.
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AdminTokenEntity, AdminPersonEntity]), ConnectionEventsModule],
  providers: [AdminTokensService, OidcVerifier, AdminAuthenticator],
  exports: [AdminTokensService, OidcVerifier, AdminAuthenticator],
})
export class AdminIdentitiesModule {}

/** The admin HTTP surface of named admin tokens. */
@Module({ imports: [AdminIdentitiesModule], controllers: [AdminTokensController] })
export class AdminTokensHttpModule {}
