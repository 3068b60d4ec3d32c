import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { BrokerEnvironment } from '../config/environment';
import { RefreshPlanned, TokenEvents } from '../tokens/token-events';
import { JOB, REFRESH_QUEUE, RefreshJobData, refreshJobId } from './queue.constants';

export type PlannedRefresh = RefreshPlanned;

/**
 * Puts refresh jobs on the queue: the near schedule. Redis holds only refreshes due within the
 * horizon; Postgres (`next_refresh_at`) holds the rest and the horizon sweep brings them in as
 * they come within reach. A refresh planned inside the horizon (a token written, a connection
 * imported) is queued at once. A failure here is logged and never fails the caller: the sweep
 * rebuilds the near schedule from Postgres.
 */
@Injectable()
export class RefreshQueue implements OnModuleInit {
  private readonly logger = new Logger(RefreshQueue.name);

  constructor(
    @InjectQueue(REFRESH_QUEUE) readonly queue: Queue,
    private readonly env: BrokerEnvironment,
    private readonly tokenEvents: TokenEvents,
  ) {}

  onModuleInit(): void {
    this.tokenEvents.onRefreshPlanned((plans) => void this.scheduleWithinHorizon(plans));
  }

  /** Epoch ms up to which refreshes belong in Redis now. */
  horizonEnd(now = Date.now()): number {
    return now + this.env.BROKER_SCHEDULE_HORIZON_SECONDS * 1000;
  }

  /** Queues those of the plans due within the horizon; returns how many. Never throws. */
  async scheduleWithinHorizon(plans: PlannedRefresh[]): Promise<number> {
    const reach = this.horizonEnd();
    const near = plans.filter((plan) => plan.runAt.getTime() < reach);
    if (near.length === 0) return 0;
    try {
      await this.scheduleMany(near);
    } catch (error) {
      this.logger.warn({ err: error, count: near.length }, 'refreshes not queued; the sweep will');
    }
    return near.length;
  }

  /** Adds many at once; jobs that already exist (same id) are left as they are. */
  async scheduleMany(plans: PlannedRefresh[]): Promise<void> {
    if (plans.length === 0) return;
    await this.queue.addBulk(
      plans.map((plan) => ({ name: JOB.refreshConnection, data: toData(plan), opts: jobOptions(plan) })),
    );
  }

  async unschedule(connectionId: string, tokenVersion: number): Promise<void> {
    try {
      await this.queue.remove(refreshJobId(connectionId, tokenVersion));
    } catch (error) {
      this.logger.debug({ err: error, connectionId }, 'refresh job not removed; it will find nothing to do');
    }
  }
}

function toData(plan: PlannedRefresh): RefreshJobData {
  const data: RefreshJobData = {
    connectionId: plan.connectionId,
    tokenVersion: plan.tokenVersion,
    runAt: plan.runAt.getTime(),
  };
  if (plan.trace) data.trace = plan.trace;
  return data;
}

function jobOptions(plan: PlannedRefresh) {
  return {
    jobId: refreshJobId(plan.connectionId, plan.tokenVersion),
    delay: Math.max(0, plan.runAt.getTime() - Date.now()),
    attempts: 8,
    backoff: { type: 'provider' },
    removeOnComplete: true,
    removeOnFail: true,
  };
}
