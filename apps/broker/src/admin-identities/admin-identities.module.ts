import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionEventsModule } from '../event-bus/connection-events.module';
import { AdminPersonEntity, AdminTokenEntity } from './admin-token.entity';
import { AdminTokensService } from './admin-tokens.service';
import { OidcVerifier } from './oidc-verifier';

/**
 * Who may use the admin API: named admin tokens and signed-in people (the authenticator that
 * also knows the bootstrap token is security/'s AdminAuthenticationModule, which imports this).
 */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AdminTokenEntity, AdminPersonEntity]), ConnectionEventsModule],
  providers: [AdminTokensService, OidcVerifier],
  exports: [AdminTokensService, OidcVerifier],
})
export class AdminIdentitiesModule {}
