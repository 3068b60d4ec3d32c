import { Global, Module } from '@nestjs/common';
import { FailedAuthThrottle } from './failed-auth-throttle';
import { SecretCipher } from './secret-cipher';

/**
 * The keyring that seals secrets and tokens at rest, and the failed-auth throttle both guards
 * share: on every role, registered once by the app.
 */
@Global()
@Module({ providers: [SecretCipher, FailedAuthThrottle], exports: [SecretCipher, FailedAuthThrottle] })
export class SecurityModule {}
