import type { ClientRegistry } from './clients';
import type { SandboxSettings } from './settings';
import type { SandboxStore } from './state';

/** What every route of the sandbox shares. */
export interface SandboxContext {
  readonly store: SandboxStore;
  readonly clients: ClientRegistry;
  /** Replaced as a whole whenever a setting changes, so a request can read one consistent snapshot. */
  settings: SandboxSettings;
  /** Aborted when the sandbox closes, to end token-request delays and hanging faults. */
  readonly shutdown: AbortSignal;
}
