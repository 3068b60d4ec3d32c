/** The one queue of scheduled work, and its job names. */
export const REFRESH_QUEUE = 'token-refresh';

export const JOB = {
  /** Refresh one connection's token ahead of its expiry. */
  refreshConnection: 'refresh-connection',
  /**
   * The horizon sweep (queue what comes due within the horizon) and housekeeping (gauges,
   * expired authorization states, old audit rows).
   */
  reconcile: 'reconcile',
} as const;

export const RECONCILE_SCHEDULER_ID = 'reconcile-schedule';

/** Redis hash (under the queue's prefix) recording how far ahead the near schedule is filled. */
export const HORIZON_KEY = 'horizon';

export interface RefreshJobData {
  connectionId: string;
  /** The token version the job was planned for; a job for an older version has nothing to do. */
  tokenVersion: number;
  /** When the refresh was planned to run (epoch ms), to measure how late it started. */
  runAt?: number;
  /** W3C trace context of the request or sweep that scheduled it: the job's span links to it. */
  trace?: Record<string, string>;
}

/** Deterministic: one job per connection and token version, whoever schedules it. */
export function refreshJobId(connectionId: string, tokenVersion: number): string {
  return `refresh.${connectionId}.${tokenVersion}`;
}
