import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { REFRESH_QUEUE } from './queue.constants';
import { RefreshQueue } from './refresh-queue';

/** The producer side of the schedule, needed by every role that stores tokens. */
@Module({
  imports: [BullModule.registerQueue({ name: REFRESH_QUEUE })],
  providers: [RefreshQueue],
  exports: [RefreshQueue],
})
export class RefreshQueueModule {}
