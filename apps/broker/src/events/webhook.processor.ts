import { Logger } from '@nestjs/common';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { BrokerEnvironment } from '../config/environment';
import { ConnectionEventPayload, SIGNATURE_HEADER, WEBHOOK_QUEUE } from './webhook.constants';
import { signWebhook } from './webhook-signature';

const DELIVERY_TIMEOUT_MS = 10_000;

/** Delivers queued connection events; any non-2xx answer or network failure is retried by BullMQ. */
@Processor(WEBHOOK_QUEUE, { concurrency: 5 })
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(private readonly env: BrokerEnvironment) {
    super();
  }

  async process(job: Job<ConnectionEventPayload>): Promise<number> {
    const url = this.env.BROKER_WEBHOOK_URL;
    if (!url) return 0;
    const body = JSON.stringify(job.data);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-broker-event': job.data.type,
        'x-broker-delivery': job.data.id,
        [SIGNATURE_HEADER]: signWebhook(this.env.BROKER_WEBHOOK_SECRET!, body),
      },
      body,
      // A redirect is not followed: the signed event goes to the configured receiver or nowhere
      // (a 3xx is a failed delivery, retried and logged).
      redirect: 'manual',
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    if (!response.ok) {
      this.logger.warn(
        { status: response.status, attempt: job.attemptsMade + 1, type: job.data.type },
        'webhook refused',
      );
      throw new Error(`webhook receiver answered HTTP ${response.status}`);
    }
    return response.status;
  }
}
