import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { BrokerEnvironment } from '../config/environment';
import type { ConnectionStatus } from '../model/connection-status';
import { ConnectionEventPayload, ConnectionEventType, WEBHOOK_JOB, WEBHOOK_QUEUE } from './webhook.constants';

import { StatusChange, TokenEvents } from '../tokens/token-events';

/**
 * Turns connection status changes into events for BROKER_WEBHOOK_URL, queued in BullMQ so a
 * receiver that is down gets them later (retries with backoff), and never delays the token path.
 */
@Injectable()
export class ConnectionWebhooks implements OnModuleInit {
  private readonly logger = new Logger(ConnectionWebhooks.name);

  constructor(
    private readonly env: BrokerEnvironment,
    @InjectQueue(WEBHOOK_QUEUE) private readonly queue: Queue,
    private readonly tokenEvents: TokenEvents,
  ) {}

  onModuleInit(): void {
    this.tokenEvents.onStatusChanged((change) => this.statusChanged(change));
  }

  statusChanged(change: StatusChange): void {
    const type = eventType(change.from, change.to);
    if (!type || !this.env.BROKER_WEBHOOK_URL) return;
    const payload: ConnectionEventPayload = {
      id: randomUUID(),
      type,
      occurredAt: new Date().toISOString(),
      connection: {
        key: change.connection,
        integration: change.integration,
        status: change.to,
        lastError: change.lastError,
      },
    };
    this.queue
      .add(WEBHOOK_JOB, payload, {
        jobId: payload.id,
        attempts: 10,
        backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
        removeOnComplete: true,
        removeOnFail: 1_000,
      })
      .catch((error: unknown) => this.logger.warn({ err: error, type }, 'event not queued'));
  }
}

function eventType(from: ConnectionStatus, to: ConnectionStatus): ConnectionEventType | null {
  if (from === to) return null;
  if (to === 'needs_reauthorization') return 'connection.needs_reauthorization';
  if (to === 'error') return 'connection.error';
  if (to === 'active' && (from === 'error' || from === 'needs_reauthorization'))
    return 'connection.recovered';
  return null;
}
