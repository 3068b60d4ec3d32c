import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { ConnectionWebhooks } from './connection-webhooks';
import { WEBHOOK_QUEUE } from './webhook.constants';

/** The producer side of connection events, used wherever a connection's status changes. */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE })],
  providers: [ConnectionWebhooks],
  exports: [ConnectionWebhooks],
})
export class EventsModule {}
