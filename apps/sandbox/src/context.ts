import type { ClientRegistry } from './clients';
import type { SandboxSettings } from './settings';
import type { HoldRegistry } from './holds';
import type { ReuseLog, SandboxStore } from './state';

/** What every route of the sandbox shares. */
export interface SandboxContext {
  readonly store: SandboxStore;
  readonly clients: ClientRegistry;
  /** Every refresh token presented twice, across providers and profiles. */
  readonly reuses: ReuseLog;
  /** Token requests a test stops at a chosen point (see holds.ts). */
  readonly holds: HoldRegistry;
  /** Replaced as a whole whenever a setting changes, so a request can read one consistent snapshot. */
  settings: SandboxSettings;
  /** Aborted when the sandbox closes, to end token-request delays and hanging faults. */
  readonly shutdown: AbortSignal;
}
