import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { Reconciler } from './reconciler';
import { RefreshProcessor } from './refresh.processor';
import { RefreshQueueModule } from './refresh-queue.module';
import { EventsModule } from '../events/events.module';
import { WebhookProcessor } from '../events/webhook.processor';
import { HorizonSweep } from './horizon-sweep';

/** The worker role: scheduled refreshes, the reconciler and webhook deliveries. */
@Module({
  imports: [TokensModule, RefreshQueueModule, EventsModule],
  providers: [Reconciler, HorizonSweep, RefreshProcessor, WebhookProcessor],
})
export class WorkerModule {}
