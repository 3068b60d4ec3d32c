import { DynamicModule, Global, Module } from '@nestjs/common';
import { BrokerEnvironment } from '../config/environment';
import { SecretCipher } from '../security/secret-cipher';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { FailedAuthThrottle } from '../security/failed-auth-throttle';

/**
 * What every feature uses: the validated environment, the keyring, metrics, the failed-auth
 * throttle. Nothing of a feature room: each room registers its own providers.
 */
@Global()
@Module({})
export class CommonModule {
  static forRoot(env: BrokerEnvironment): DynamicModule {
    const providers = [
      { provide: BrokerEnvironment, useValue: env },
      SecretCipher,
      BrokerMetrics,
      FailedAuthThrottle,
    ];
    return {
      module: CommonModule,
      providers,
      exports: [BrokerEnvironment, SecretCipher, BrokerMetrics, FailedAuthThrottle],
    };
  }
}
