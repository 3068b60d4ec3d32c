/** The one queue of scheduled work, and its job names. */
export const REFRESH_QUEUE = 'token-refresh';

export const JOB = {
  /** Refresh one connection's token ahead of its expiry. */
  refreshConnection: 'refresh-connection',
  /** Rebuild missing refresh jobs from Postgres, prune expired states and old audit rows. */
  reconcile: 'reconcile',
} as const;

export const RECONCILE_SCHEDULER_ID = 'reconcile-schedule';

export interface RefreshJobData {
  connectionId: string;
  /** The token version the job was planned for; a job for an older version has nothing to do. */
  tokenVersion: number;
  /** When the refresh was planned to run (epoch ms), to measure how late it started. */
  runAt?: number;
}

/** Deterministic: one job per connection and token version, whoever schedules it. */
export function refreshJobId(connectionId: string, tokenVersion: number): string {
  return `refresh.${connectionId}.${tokenVersion}`;
}
