import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientOf, ProviderName } from './clients';
import type { SandboxContext } from './context';
import { deliverProcessed, hang, isProcessedFault, sendFault, takeFault } from './faults';
import {
  invalidClient,
  invalidRequest,
  OAuthError,
  readBasicCredentials,
  type BasicCredentialsReading,
  readParams,
  secretsEqual,
  type Params,
} from './protocol';

export type TokenResponseBody = Readonly<Record<string, string | number>>;
export type GrantHandler = (params: Params, request: FastifyRequest) => TokenResponseBody;

/** RFC 6749 5.1: token responses, errors included, must not be cached. */
export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * Wraps a provider's token endpoint with what all of them share: request counting, the in-flight gauge,
 * the configured latency, fault injection and OAuth error responses.
 */
export function tokenRoute(ctx: SandboxContext, provider: ProviderName, handle: GrantHandler) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> => {
    ctx.store.countTokenRequest(provider, (request.body as { grant_type?: unknown } | undefined)?.grant_type);
    const account = ctx.store.accountOf(provider, request.body);
    const release = ctx.store.trackTokenRequest(provider);
    const pass = (stage: 'beforeProcessing' | 'afterProcessing') =>
      ctx.holds.pass(stage, provider, account, request, reply, ctx.shutdown);
    try {
      // The latency comes first so that a code or refresh token is only consumed once it is over: two
      // concurrent requests with the same refresh token then behave as they would upstream.
      if (!(await waitUnlessShutDown(ctx.settings.tokenLatencyMs, ctx.shutdown))) {
        // The sandbox is closing and about to destroy the connection: there is nothing left to answer.
        reply.hijack();
        return;
      }
      if (!(await pass('beforeProcessing'))) return;
      const fault = takeFault(ctx, provider, account);
      if (fault === 'hang') return await hang(reply, ctx.shutdown);
      if (fault !== 'none' && !isProcessedFault(fault)) return sendFault(fault, reply);
      const body = handle(readFormBody(request), request);
      if (!(await pass('afterProcessing'))) return;
      return await deliverProcessed(
        fault,
        request,
        reply,
        body,
        (answer) => reply.headers(NO_STORE).send(answer),
        ctx,
      );
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      if (error.error === 'invalid_client') ctx.store.count('invalidClient');
      return reply
        .status(error.status)
        .headers({ ...NO_STORE, ...error.headers })
        .send({ error: error.error, error_description: error.description });
    } finally {
      release();
    }
  };
}

/** Resolves false when the sandbox shut down during the wait, leaving the request unanswered. */
export async function waitUnlessShutDown(ms: number, shutdown: AbortSignal): Promise<boolean> {
  if (ms > 0) {
    try {
      await sleep(ms, undefined, { signal: shutdown });
    } catch (error) {
      if (!shutdown.aborted) throw error;
    }
  }
  return !shutdown.aborted;
}

/** Every provider documents form-encoded token requests; a JSON body points at a client bug. */
export function readFormBody(request: FastifyRequest): Params {
  const mediaType = request.headers['content-type']?.split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/x-www-form-urlencoded') {
    throw invalidRequest('The token request must be sent as application/x-www-form-urlencoded.');
  }
  return readParams(request.body);
}

export interface ClientAuthMethods {
  /** client_secret_basic: `Authorization: Basic`, read as the provider documents; false: refused. */
  readonly basic: BasicCredentialsReading | false;
  /** client_secret_post: client_id and client_secret in the form body. */
  readonly post: boolean;
}

/** Authenticates the client with the methods this provider accepts, refusing any other. */
export function authenticateClient<P extends ProviderName>(
  ctx: SandboxContext,
  provider: P,
  request: FastifyRequest,
  params: Params,
  methods: ClientAuthMethods,
): ClientOf<P> {
  const realm = methods.basic ? provider : undefined;
  // A provider that refuses Basic still reads the header, to say so; how it would decode is moot.
  const basic = readBasicCredentials(request.headers.authorization, methods.basic || 'literal', realm);
  const postedSecret = params.client_secret;
  if (basic && !methods.basic) {
    throw invalidClient(
      'HTTP Basic is not accepted here; send client_id and client_secret in the form body.',
    );
  }
  if (postedSecret !== undefined && !methods.post) {
    throw invalidClient(
      'Client credentials in the request body are not accepted here; use HTTP Basic.',
      realm,
    );
  }
  if (basic && postedSecret !== undefined) {
    throw invalidRequest('Use only one client authentication method (RFC 6749 section 2.3).');
  }
  const credentials =
    basic ??
    (postedSecret === undefined
      ? undefined
      : { clientId: params.client_id ?? '', clientSecret: postedSecret });
  if (credentials === undefined) throw invalidClient('Client authentication is required.', realm);
  const client = ctx.clients.find(provider, credentials.clientId);
  if (client === undefined || !secretsEqual(credentials.clientSecret, client.clientSecret)) {
    throw invalidClient('Unknown client or wrong client secret.', realm);
  }
  return client;
}
