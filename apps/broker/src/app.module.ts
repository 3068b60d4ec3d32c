import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BullModule } from '@nestjs/bullmq';
import { BrokerEnvironment } from './config/environment';
import { dataSourceOptions } from './database/data-source';
import { CommonModule } from './common/common.module';
import { SecurityModule } from './security/security.module';
import { HealthModule } from './health/health.module';
import { IntegrationsHttpModule } from './integrations/integrations.module';
import { ConnectionsHttpModule, OAuthCallbackHttpModule } from './connections/connections.module';
import { CallerHttpModule, ClientsHttpModule } from './clients/clients.module';
import { TokensHttpModule } from './tokens/tokens.module';
import { WorkerModule } from './scheduler/worker.module';
import { AuditHttpModule } from './audit-api/audit.module';
import { ProvidersHttpModule } from './providers/providers.module';
import { AuditLogModule } from './audit/audit-log.module';
import { EventsModule } from './events/events.module';
import { RefreshQueueModule } from './scheduler/refresh-queue.module';
import { AdminAuthenticationModule } from './security/admin-authentication.module';
import { AdminTokensHttpModule } from './admin-tokens-api/admin-tokens-api.module';

/**
 * One app for every role: `api` mounts the HTTP surfaces (the admin ones only when the admin API
 * is on), `worker` the scheduler, `all` both; health and metrics are on every role.
 */
@Module({})
export class AppModule {
  static forRoot(env: BrokerEnvironment, configModule: DynamicModule): DynamicModule {
    const roleModules = [
      ...(env.servesApi ? [TokensHttpModule, CallerHttpModule, OAuthCallbackHttpModule] : []),
      ...(env.adminApiEnabled
        ? [
            AdminAuthenticationModule,
            IntegrationsHttpModule,
            ConnectionsHttpModule,
            ClientsHttpModule,
            AuditHttpModule,
            ProvidersHttpModule,
            AdminTokensHttpModule,
          ]
        : []),
      ...(env.runsWorker ? [WorkerModule] : []),
    ];
    return {
      module: AppModule,
      imports: [
        configModule,
        TypeOrmModule.forRoot(dataSourceOptions(env.DATABASE_URL)),
        BullModule.forRoot({ connection: redisConnection(env.REDIS_URL), prefix: 'broker' }),
        CommonModule.forRoot(env),
        SecurityModule,
        AuditLogModule,
        // Listeners of the token room's announcements, wherever tokens are written.
        RefreshQueueModule,
        EventsModule,
        HealthModule,
        ...roleModules,
      ],
    };
  }
}

/** ioredis options from `REDIS_URL`; commands fail fast instead of queueing while Redis is away. */
export function redisConnection(redisUrl: string) {
  const url = new URL(redisUrl);
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    username: url.username ? decodeURIComponent(url.username) : undefined,
    password: url.password ? decodeURIComponent(url.password) : undefined,
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
  };
}
