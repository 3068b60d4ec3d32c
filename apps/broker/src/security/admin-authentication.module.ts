import { Global, Module } from '@nestjs/common';
import { AdminIdentitiesModule } from '../admin-identities/admin-identities.module';
import { AdminAuthenticator } from './admin-authenticator';

/**
 * Who may use the admin API: the bootstrap token, named admin tokens and signed-in people. Global,
 * so the admin guard of every feature's controllers finds the authenticator.
 */
@Global()
@Module({ imports: [AdminIdentitiesModule], providers: [AdminAuthenticator], exports: [AdminAuthenticator] })
export class AdminAuthenticationModule {}
