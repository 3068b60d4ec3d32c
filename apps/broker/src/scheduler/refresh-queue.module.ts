import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TokensModule } from '../tokens/tokens.module';
import { REFRESH_QUEUE } from './queue.constants';
import { RefreshQueue } from './refresh-queue';

/**
 * The producer side of the schedule, on every role that stores tokens: it listens to the token
 * room's planned refreshes and puts those due within the horizon on the queue.
 */
@Module({
  imports: [BullModule.registerQueue({ name: REFRESH_QUEUE }), TokensModule],
  providers: [RefreshQueue],
  exports: [RefreshQueue],
})
export class RefreshQueueModule {}
