import type { Logger } from 'pino';
import { CONNECTION_KEY_PATTERN } from '@broker/token-api';
import { BrokerClient, BrokerResponse, BrokerUnreachableError } from './broker-client';
import { Credential, CredentialSource } from './credential';
import { AgentMetrics, BrokerCallPurpose } from './agent-metrics';

/** A token as the agent keeps it. */
export interface CachedToken {
  accessToken: string;
  tokenType: string;
  scope: string | null;
  expiresAtMs: number;
  /** The provider's kept fields, passed through unchanged (absent when the broker sent none). */
  metadata?: Record<string, unknown>;
  /** When the agent received it: with `expiresAtMs`, how long the broker's tokens last. */
  fetchedAtMs: number;
}

/** What one ask of the broker for a token came to. */
export type FetchOutcome =
  | { kind: 'token'; token: CachedToken; asked: number }
  /** An answer passed to the app unchanged; `hold`: 403, 404 and 409 are held a few seconds. */
  | { kind: 'denied'; status: number; body: string; hold: boolean }
  | { kind: 'credential_refused'; message: string }
  /** Unreachable, timed out, 5xx or throttled; `status`/`body` when the broker answered a 503 itself. */
  | { kind: 'unavailable'; message: string; status?: number; body?: string };

export interface CallerIdentity {
  name: string;
  kind: string;
  connections: string[];
}

export type WhoAmIOutcome =
  | { kind: 'accepted'; caller: CallerIdentity }
  | { kind: 'credential_refused'; message: string }
  | { kind: 'unavailable'; message: string };

/** Tells the broker-facing layer whether the current credential has been refused already. */
export interface CredentialVerdicts {
  isRefused(version: number): boolean;
  refused(version: number, message: string): void;
}

const HELD_STATUSES = new Set([403, 404, 409]);

/**
 * The broker's token API and "who am I", with the agent's credential: a 401 makes the token
 * file be read again (the kubelet may have rotated it a moment ago) and, when the new value is
 * refused too or nothing changed, marks the credential refused so the app gets 503 and the pod
 * turns unready. While a credential stays refused, token reads do not call the broker with it.
 */
export class BrokerApi {
  private verdicts: CredentialVerdicts = { isRefused: () => false, refused: () => undefined };

  constructor(
    private readonly client: BrokerClient,
    private readonly credential: CredentialSource,
    private readonly metrics: AgentMetrics,
    private readonly logger: Logger,
  ) {}

  useVerdicts(verdicts: CredentialVerdicts): void {
    this.verdicts = verdicts;
  }

  async fetchToken(key: string, minValidity: number, purpose: BrokerCallPurpose): Promise<FetchOutcome> {
    if (!CONNECTION_KEY_PATTERN.test(key)) throw new Error(`not a connection key: ${key}`);
    const path = `/tokens/${key}?minValidity=${minValidity}`;
    let credential = await this.currentCredential();
    if (this.verdicts.isRefused(credential.version)) {
      return { kind: 'credential_refused', message: refusedMessage(this.credential.description) };
    }
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      const answered = await this.call(path, credential);
      const outcome = this.tokenOutcome(answered, minValidity);
      this.metrics.brokerCall(purpose, outcome.kind, (performance.now() - started) / 1000);
      if (outcome.kind !== 'credential_refused') return outcome;
      if (attempt === 0 && (await this.reloadCredential())) {
        credential = await this.currentCredential();
        continue;
      }
      this.verdicts.refused(credential.version, outcome.message);
      return outcome;
    }
  }

  async whoAmI(credential: Credential): Promise<WhoAmIOutcome> {
    const started = performance.now();
    const answered = await this.call('/caller', credential);
    let outcome: WhoAmIOutcome;
    if (answered instanceof BrokerUnreachableError) {
      outcome = { kind: 'unavailable', message: answered.message };
    } else if (answered.status === 200) {
      const caller = parseJson(answered.text) as CallerIdentity | undefined;
      outcome =
        caller && typeof caller.name === 'string'
          ? { kind: 'accepted', caller }
          : { kind: 'unavailable', message: 'the broker answered GET /caller with a malformed body' };
    } else if (answered.status === 401) {
      this.metrics.brokerError('credential_refused');
      outcome = {
        kind: 'credential_refused',
        message: refusedMessage(this.credential.description, answered),
      };
    } else {
      this.metrics.brokerError(answered.status === 429 ? 'throttled' : 'server_error');
      outcome = { kind: 'unavailable', message: `the broker answered GET /caller with ${answered.status}` };
    }
    this.metrics.brokerCall('caller', outcome.kind, (performance.now() - started) / 1000);
    return outcome;
  }

  /** The credential to present; a token file that cannot be read now keeps its last value (logged). */
  async currentCredential(): Promise<Credential> {
    try {
      return await this.credential.get();
    } catch (error) {
      this.logger.warn(
        { reason: (error as Error).message },
        `${this.credential.description} unreadable; presenting its last value`,
      );
      return this.credential.last;
    }
  }

  private async reloadCredential(): Promise<boolean> {
    try {
      return await this.credential.reload();
    } catch (error) {
      this.logger.warn(
        { reason: (error as Error).message },
        `${this.credential.description} unreadable after a 401`,
      );
      return false;
    }
  }

  private async call(path: string, credential: Credential): Promise<BrokerResponse | BrokerUnreachableError> {
    try {
      return await this.client.get(path, credential.value);
    } catch (error) {
      if (!(error instanceof BrokerUnreachableError)) throw error;
      this.metrics.brokerError(error.kind);
      return error;
    }
  }

  private tokenOutcome(answered: BrokerResponse | BrokerUnreachableError, asked: number): FetchOutcome {
    if (answered instanceof BrokerUnreachableError) {
      return { kind: 'unavailable', message: `the central broker is unreachable: ${answered.message}` };
    }
    const { status, text } = answered;
    if (status === 200) {
      const token = parseToken(text);
      if (token) return { kind: 'token', token, asked };
      this.metrics.brokerError('malformed');
      return { kind: 'unavailable', message: 'the central broker answered a malformed token' };
    }
    if (status === 401) {
      this.metrics.brokerError('credential_refused');
      return { kind: 'credential_refused', message: refusedMessage(this.credential.description, answered) };
    }
    if (status === 429 || status >= 500 || status < 400) {
      this.metrics.brokerError(status === 429 ? 'throttled' : 'server_error');
      const brokerBody = status === 503 && isErrorBody(text) ? text : undefined;
      return {
        kind: 'unavailable',
        message: `the central broker answered ${status}`,
        status: brokerBody ? 503 : undefined,
        body: brokerBody,
      };
    }
    return { kind: 'denied', status, body: text, hold: HELD_STATUSES.has(status) };
  }
}

function refusedMessage(description: string, answered?: BrokerResponse): string {
  const brokerSays = answered
    ? (parseJson(answered.text) as { message?: unknown } | undefined)?.message
    : undefined;
  return (
    `the central broker refused the agent's credential (${description})` +
    (typeof brokerSays === 'string' ? `: ${brokerSays}` : '')
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(text: string): boolean {
  const body = parseJson(text) as { statusCode?: unknown; error?: unknown; message?: unknown } | undefined;
  return (
    typeof body?.statusCode === 'number' && typeof body.error === 'string' && typeof body.message === 'string'
  );
}

function parseToken(text: string): CachedToken | undefined {
  const body = parseJson(text) as Record<string, unknown> | undefined;
  if (
    !body ||
    typeof body.accessToken !== 'string' ||
    typeof body.tokenType !== 'string' ||
    typeof body.expiresAt !== 'string' ||
    (body.scope !== null && typeof body.scope !== 'string')
  ) {
    return undefined;
  }
  const expiresAtMs = Date.parse(body.expiresAt);
  if (!Number.isFinite(expiresAtMs)) return undefined;
  const metadata = body.metadata;
  return {
    accessToken: body.accessToken,
    tokenType: body.tokenType,
    scope: body.scope as string | null,
    expiresAtMs,
    ...(typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)
      ? { metadata: metadata as Record<string, unknown> }
      : {}),
    fetchedAtMs: Date.now(),
  };
}
