import { Injectable, Logger } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import { JOB, REFRESH_QUEUE, RefreshJobData, refreshJobId } from './queue.constants';

export interface PlannedRefresh {
  connectionId: string;
  tokenVersion: number;
  runAt: Date;
}

/**
 * Puts refresh jobs on the queue. Redis holds only this schedule: when it is lost the reconciler
 * rebuilds it from Postgres, so a failure here is logged and never fails the caller.
 */
@Injectable()
export class RefreshQueue {
  private readonly logger = new Logger(RefreshQueue.name);

  constructor(@InjectQueue(REFRESH_QUEUE) readonly queue: Queue) {}

  async schedule(plan: PlannedRefresh): Promise<void> {
    try {
      await this.queue.add(JOB.refreshConnection, toData(plan), jobOptions(plan));
    } catch (error) {
      this.logger.warn(
        { err: error, connectionId: plan.connectionId },
        'refresh not scheduled; the reconciler will',
      );
    }
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
  return { connectionId: plan.connectionId, tokenVersion: plan.tokenVersion, runAt: plan.runAt.getTime() };
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
