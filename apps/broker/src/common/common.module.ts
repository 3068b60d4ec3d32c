import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BrokerEnvironment } from '../config/environment';
import { SecretCipher } from '../security/secret-cipher';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { ConnectionEvents } from '../tokens/connection-events';
import { AuditLog } from '../audit/audit-log';
import { AuditEventEntity } from '../audit/audit-event.entity';
import { FailedAuthThrottle } from '../security/failed-auth-throttle';

/** What every feature uses: the validated environment, the keyring, metrics, change events, audit. */
@Global()
@Module({})
export class CommonModule {
  static forRoot(env: BrokerEnvironment): DynamicModule {
    const providers = [
      { provide: BrokerEnvironment, useValue: env },
      SecretCipher,
      BrokerMetrics,
      ConnectionEvents,
      AuditLog,
      FailedAuthThrottle,
    ];
    return {
      module: CommonModule,
      imports: [TypeOrmModule.forFeature([AuditEventEntity])],
      providers,
      exports: [
        BrokerEnvironment,
        SecretCipher,
        BrokerMetrics,
        ConnectionEvents,
        AuditLog,
        FailedAuthThrottle,
      ],
    };
  }
}
