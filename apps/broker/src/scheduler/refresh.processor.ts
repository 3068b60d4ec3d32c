import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { OnWorkerEvent, Processor, WorkerHost } from '@nestjs/bullmq';
import { Job, UnrecoverableError } from 'bullmq';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { RefreshFailedError, TokenRefresher } from '../tokens/token-refresher';
import { TokenStore } from '../tokens/token-store';
import { JOB, RECONCILE_SCHEDULER_ID, REFRESH_QUEUE, RefreshJobData } from './queue.constants';
import { Reconciler } from './reconciler';
import { HorizonSweep } from './horizon-sweep';
import { RefreshQueue } from './refresh-queue';
import { ATTR, inSpan, linkTo, ROOT_CONTEXT, setActiveAttribute, SpanKind } from '../tracing/spans';

/**
 * How often the worker checks that Redis still holds the sweep's job scheduler. A flush is noticed
 * within this, and the near schedule rebuilt at once: refreshes due meanwhile start this late.
 */
const SCHEDULE_WATCH_MS = 1_000;

/**
 * The worker role: runs scheduled refreshes through the same refresher as the token API, and the
 * recurring reconcile. Transient provider failures are retried with exponential backoff and
 * jitter, honouring Retry-After; a connection that needs re-authorization or an integration that
 * is misconfigured is not retried.
 */
@Processor(REFRESH_QUEUE, { settings: { backoffStrategy: providerBackoff } })
export class RefreshProcessor extends WorkerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RefreshProcessor.name);
  private watchTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly env: BrokerEnvironment,
    private readonly refresher: TokenRefresher,
    private readonly store: TokenStore,
    private readonly reconciler: Reconciler,
    private readonly sweep: HorizonSweep,
    private readonly refreshQueue: RefreshQueue,
    private readonly metrics: BrokerMetrics,
  ) {
    super();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker.concurrency = this.env.BROKER_WORKER_CONCURRENCY;
    await this.ensureReconcileSchedule();
    // Redis only holds the schedule; if it was flushed, the reconcile schedule is gone with it.
    // Checking for it every second brings the near schedule back within moments.
    this.watchTimer = setInterval(() => void this.ensureReconcileSchedule(), SCHEDULE_WATCH_MS);
    this.watchTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.watchTimer) clearInterval(this.watchTimer);
  }

  /** Each job is the root of its own trace, linked to the request or sweep that scheduled it. */
  process(job: Job): Promise<unknown> {
    const scheduledBy = (job.data as Partial<RefreshJobData> | undefined)?.trace;
    return inSpan(
      `scheduler ${job.name}`,
      { [ATTR.jobName]: job.name, [ATTR.jobId]: job.id ?? '', [ATTR.jobAttempt]: job.attemptsMade + 1 },
      async (span) => {
        const result = await this.run(job);
        if (typeof result === 'string') span.setAttribute(ATTR.jobResult, result);
        return result;
      },
      { parent: ROOT_CONTEXT, kind: SpanKind.CONSUMER, links: linkTo(scheduledBy) },
    );
  }

  private async run(job: Job): Promise<unknown> {
    if (job.name === JOB.reconcile) return this.reconciler.reconcile();
    if (job.name === JOB.refreshConnection) return this.refreshConnection(job as Job<RefreshJobData>);
    throw new UnrecoverableError(`unknown job ${job.name}`);
  }

  private async refreshConnection(job: Job<RefreshJobData>): Promise<string> {
    const { connectionId, tokenVersion } = job.data;
    const row = await this.store.findById(connectionId);
    if (!row || row.tokenVersion !== tokenVersion || !['active', 'error'].includes(row.status))
      return 'superseded';
    // The plan moved later since this job was queued (a `when_read` connection left cold): the
    // job has nothing to do now; the sweep queues the new plan when it comes within reach.
    if (
      job.data.runAt &&
      (!row.nextRefreshAt || new Date(row.nextRefreshAt).getTime() > job.data.runAt + 1_000)
    )
      return 'moved';
    if (job.attemptsMade === 0 && job.data.runAt) {
      const lagSeconds = (Date.now() - job.data.runAt) / 1000;
      this.metrics.schedulerLagSeconds(lagSeconds);
      setActiveAttribute(ATTR.schedulerLag, lagSeconds);
    }
    try {
      await this.refresher.refresh(connectionId, {
        reason: 'scheduled',
        minValiditySeconds: 0,
        force: true,
        expectedVersion: tokenVersion,
      });
      return 'refreshed';
    } catch (error) {
      if (error instanceof RefreshFailedError && error.providerError?.retryable) {
        throw Object.assign(new Error(error.message), { retryAfterMs: error.providerError.retryAfterMs });
      }
      if (error instanceof BrokerError) throw new UnrecoverableError(error.message);
      throw error;
    }
  }

  private async ensureReconcileSchedule(): Promise<void> {
    try {
      const existing = await this.refreshQueue.queue.getJobScheduler(RECONCILE_SCHEDULER_ID);
      if (existing) return;
      await this.refreshQueue.queue.upsertJobScheduler(
        RECONCILE_SCHEDULER_ID,
        { every: this.env.BROKER_RECONCILE_INTERVAL_SECONDS * 1000 },
        { name: JOB.reconcile, opts: { removeOnComplete: true, removeOnFail: 100 } },
      );
      this.logger.log('reconcile schedule installed');
      // Missing means Redis is new or was flushed: the near schedule went with it. Rebuild it now
      // rather than at the sweep job's first run, so refreshes due meanwhile are not late.
      void this.sweep
        .sweep()
        .catch((error: unknown) =>
          this.logger.warn({ err: error }, 'horizon not rebuilt; the next sweep will'),
        );
    } catch (error) {
      this.logger.warn({ err: error }, 'reconcile schedule not checked; Redis unreachable?');
    }
  }

  /**
   * The worker's own errors (a lock not renewed, a job whose key vanished with a flushed Redis):
   * logged here once, as a line, instead of BullMQ's default stack on stderr. The job's refresh
   * itself was fenced by its lease; the sweep brings back whatever the flush took.
   */
  @OnWorkerEvent('error')
  onWorkerError(error: Error): void {
    this.logger.warn({ reason: error.message }, 'refresh worker error');
  }

  /**
   * A job that found its plan moved later (`moved`) leaves the new plan to the sweep; but when the
   * sweep reached the new plan while this job still held its id, BullMQ dropped that one as a
   * duplicate, and only a full sweep would bring it back. Now that this job is gone, the new plan is
   * queued here when it falls within the horizon (beyond it, the next sweep's slice holds it).
   */
  @OnWorkerEvent('completed')
  async onCompleted(job: Job, result: unknown): Promise<void> {
    if (job.name !== JOB.refreshConnection || result !== 'moved') return;
    const { connectionId, tokenVersion } = job.data as RefreshJobData;
    try {
      const row = await this.store.findById(connectionId);
      if (!row?.nextRefreshAt || row.tokenVersion !== tokenVersion) return;
      if (!['active', 'error'].includes(row.status)) return;
      const runAt = new Date(row.nextRefreshAt);
      if (runAt.getTime() >= this.refreshQueue.horizonEnd()) return;
      await this.refreshQueue.scheduleMany([{ connectionId, tokenVersion, runAt }]);
    } catch (error) {
      this.logger.warn({ err: error, connectionId }, 'moved refresh not queued again; the sweep will');
    }
  }

  @OnWorkerEvent('failed')
  onFailed(job: Job | undefined, error: Error): void {
    this.logger.warn(
      { job: job?.id, attempts: job?.attemptsMade, reason: error.message },
      'refresh job failed',
    );
  }
}

/**
 * Exponential backoff with full jitter (1 s, 2 s, 4 s … at most 5 minutes), never sooner than
 * the provider's Retry-After.
 */
export function providerBackoff(attemptsMade: number, _type?: string, error?: Error): number {
  const ceiling = Math.min(300_000, 1_000 * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  const retryAfter = (error as { retryAfterMs?: number } | undefined)?.retryAfterMs ?? 0;
  return Math.max(jittered, retryAfter);
}
