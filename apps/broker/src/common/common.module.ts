import { DynamicModule, Global, Module } from '@nestjs/common';
import { BrokerEnvironment } from '../config/environment';
import { BrokerMetrics } from '../metrics/broker-metrics';

/**
 * What every feature uses: the validated environment and metrics. Nothing of a feature room:
 * each room registers its own providers (the keyring and the throttle: SecurityModule).
 */
@Global()
@Module({})
export class CommonModule {
  static forRoot(env: BrokerEnvironment): DynamicModule {
    const providers = [{ provide: BrokerEnvironment, useValue: env }, BrokerMetrics];
    return {
      module: CommonModule,
      providers,
      exports: [BrokerEnvironment, BrokerMetrics],
    };
  }
}
