import { Module } from '@nestjs/common';
import { TokensModule } from '../tokens/tokens.module';
import { Reconciler } from './reconciler';
import { RefreshProcessor } from './refresh.processor';
import { RefreshQueueModule } from './refresh-queue.module';

/** The worker role: scheduled refreshes and the reconciler. */
@Module({
  imports: [TokensModule, RefreshQueueModule],
  providers: [Reconciler, RefreshProcessor],
})
export class WorkerModule {}
