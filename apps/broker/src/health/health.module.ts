import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RefreshQueueModule } from '../scheduler/refresh-queue.module';
import { TokensModule } from '../tokens/tokens.module';
import { HealthController } from './health.controller';
import { ReadinessCheck } from './readiness';

/** `/health/live`, `/health/ready` and `/metrics`, on every role. */
@Module({
  imports: [TerminusModule, RefreshQueueModule, TokensModule],
  providers: [ReadinessCheck],
  controllers: [HealthController],
})
export class HealthModule {}
