/**
 * Holds: a test stops one token request at a chosen point and decides, later, whether it goes on. With
 * them a crash can be placed exactly: a client killed while its request waits `beforeProcessing` never
 * had it processed (dropped); one killed while it waits `afterProcessing` lost an answer the provider
 * had already acted on. In-process only (`Sandbox.hold()`), since a test needs the promise.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { resetConnection } from './faults';

export type HoldStage = 'beforeProcessing' | 'afterProcessing';

export interface HoldMatch {
  /** A built-in provider or a profile id; absent: any. */
  readonly provider?: string;
  /** The account of the presented refresh token or code; absent: any. */
  readonly account?: string;
  readonly stage: HoldStage;
}

export interface TokenRequestHold {
  /** Resolves when a matching request reached the hold's stage (and now waits there). */
  readonly arrived: Promise<void>;
  /** Lets the request go on. */
  release(): void;
  /**
   * Ends the request without an answer: before processing it is never processed (as if it had never
   * been sent); after processing its answer is lost (the connection is reset).
   */
  drop(): void;
}

type Decision = 'release' | 'drop';

interface PendingHold extends HoldMatch {
  claimed: boolean;
  arrive(): void;
  readonly decision: Promise<Decision>;
}

export class HoldRegistry {
  private pending: PendingHold[] = [];

  /** Holds the next token request that matches, once. */
  add(match: HoldMatch): TokenRequestHold {
    let arrive!: () => void;
    let decide!: (decision: Decision) => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const decision = new Promise<Decision>((resolve) => (decide = resolve));
    this.pending.push({ ...match, claimed: false, arrive, decision });
    return { arrived, release: () => decide('release'), drop: () => decide('drop') };
  }

  /**
   * Waits at `stage` if a hold matches this request; resolves false when the request was dropped (its
   * connection is then reset and nothing more must be sent).
   */
  async pass(
    stage: HoldStage,
    provider: string,
    account: string | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
    shutdown: AbortSignal,
  ): Promise<boolean> {
    const hold = this.pending.find(
      (candidate) =>
        !candidate.claimed &&
        candidate.stage === stage &&
        (candidate.provider === undefined || candidate.provider === provider) &&
        (candidate.account === undefined || candidate.account === account),
    );
    if (!hold) return true;
    hold.claimed = true;
    this.pending = this.pending.filter((candidate) => candidate !== hold);
    hold.arrive();
    const closing = new Promise<Decision>((resolve) => {
      if (shutdown.aborted) resolve('drop');
      shutdown.addEventListener('abort', () => resolve('drop'), { once: true });
    });
    if ((await Promise.race([hold.decision, closing])) === 'release') return true;
    resetConnection(request, reply);
    return false;
  }

  /** Forgets the holds no request has reached yet. */
  clear(): void {
    this.pending = [];
  }
}
