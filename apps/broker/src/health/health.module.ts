import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { RefreshQueueModule } from '../scheduler/refresh-queue.module';
import { HealthController } from './health.controller';

/** `/health/live`, `/health/ready` and `/metrics`, on every role. */
@Module({ imports: [TerminusModule, RefreshQueueModule], controllers: [HealthController] })
export class HealthModule {}
