import type { Logger } from 'pino';
import type { CallerIdentity, CredentialVerdicts, WhoAmIOutcome } from './broker-api';
import type { Credential } from './credential';
import type { AgentMetrics } from './agent-metrics';

const CHECK_INTERVAL_MS = 1_000;
/** A refused credential that did not change is shown to the broker again this seldom (its failed-auth throttle counts each). */
const REFUSED_RETRY_MS = 30_000;

export interface ReadinessView {
  ready: boolean;
  reason: string;
  caller: CallerIdentity | null;
}

/**
 * Whether the broker accepts the agent's credential. Ready once `GET /caller` answered 200; a
 * broker outage afterwards changes nothing (the agent serves from its cache); a 401, here or on a
 * token call, makes it unready until a credential is accepted. A background check, once a second,
 * looks at the credential (a `stat` of the token file) and asks the broker only when it changed,
 * while not yet accepted, or now and then while refused.
 */
export class Readiness implements CredentialVerdicts {
  private caller: CallerIdentity | null = null;
  private acceptedVersion: number | null = null;
  private refusedVersion: number | null = null;
  private refusedAt = 0;
  private reason = 'the central broker has not yet accepted the agent credential';
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private checking: Promise<void> | null = null;

  constructor(
    private readonly credential: () => Promise<Credential>,
    private readonly whoAmI: (credential: Credential) => Promise<WhoAmIOutcome>,
    private readonly onIdentityChange: (previous: CallerIdentity, next: CallerIdentity) => void,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {
    metrics.setReady(false);
  }

  get ready(): boolean {
    return this.acceptedVersion !== null && this.refusedVersion === null;
  }

  view(): ReadinessView {
    return { ready: this.ready, reason: this.ready ? 'ready' : this.reason, caller: this.caller };
  }

  /** Runs the first check now and the following ones in the background. */
  start(): Promise<void> {
    return this.check();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  isRefused(version: number): boolean {
    return this.refusedVersion === version;
  }

  refused(version: number, message: string): void {
    if (this.refusedVersion !== version)
      this.logger.error({ credentialVersion: version }, `not ready: ${message}`);
    this.refusedVersion = version;
    this.refusedAt = Date.now();
    this.reason = message;
    this.metrics.setReady(false);
  }

  check(): Promise<void> {
    this.checking ??= this.runCheck().finally(() => {
      this.checking = null;
      this.schedule();
    });
    return this.checking;
  }

  private async runCheck(): Promise<void> {
    let credential: Credential;
    try {
      credential = await this.credential();
    } catch (error) {
      this.setReason(`the agent credential cannot be read: ${(error as Error).message}`);
      return;
    }
    if (this.ready && credential.version === this.acceptedVersion) return;
    if (this.refusedVersion === credential.version && Date.now() - this.refusedAt < REFUSED_RETRY_MS) return;
    const outcome = await this.whoAmI(credential);
    if (outcome.kind === 'accepted') this.accepted(credential.version, outcome.caller);
    else if (outcome.kind === 'credential_refused') this.refused(credential.version, outcome.message);
    else if (!this.ready) this.setReason(`not ready: ${outcome.message}`);
  }

  private accepted(version: number, caller: CallerIdentity): void {
    const previous = this.caller;
    const wasReady = this.ready;
    this.caller = caller;
    this.acceptedVersion = version;
    this.refusedVersion = null;
    this.reason = 'ready';
    this.metrics.setReady(true);
    if (previous && (previous.name !== caller.name || previous.kind !== caller.kind)) {
      this.logger.warn(
        { from: previous.name, to: caller.name },
        'the agent credential now stands for another caller; cache cleared',
      );
      this.onIdentityChange(previous, caller);
    }
    if (!wasReady) {
      this.logger.info(
        // Since the process started: the start-to-ready figure.
        { caller: caller.name, kind: caller.kind, sinceStartMs: Math.round(performance.now()) },
        'ready: the central broker accepted the agent credential',
      );
    }
  }

  private setReason(reason: string): void {
    if (reason !== this.reason) this.logger.warn(reason);
    this.reason = reason;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.check(), CHECK_INTERVAL_MS);
    this.timer.unref();
  }
}
