import { Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { TokensModule } from '../tokens/tokens.module';
import { ConnectionWebhooks } from './connection-webhooks';
import { WEBHOOK_QUEUE } from './webhook.constants';

/** The producer side of connection events: listens to the token room's status changes. */
@Module({
  imports: [BullModule.registerQueue({ name: WEBHOOK_QUEUE }), TokensModule],
  providers: [ConnectionWebhooks],
  exports: [ConnectionWebhooks],
})
export class EventsModule {}
