import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BrokerError } from '../common/broker-error';
import { bearerToken } from '../security/admin.guard';
import { FailedAuthThrottle } from '../security/failed-auth-throttle';
import { Caller, ClientsService, KnownCaller, looksLikeApiKey } from './clients.service';
import { ProvenConnections } from './proven-connections';
import { ServiceAccountVerifier } from './service-account-verifier';

export type CallerRequest = FastifyRequest & { caller?: Caller };

/**
 * Recognises the calling service: a client API key, or a pod's projected ServiceAccount token
 * when ServiceAccount callers are configured. The token API's 401, and its 429 for a source that
 * keeps failing.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  private readonly proven = new ProvenConnections();

  constructor(
    private readonly clients: ClientsService,
    private readonly serviceAccounts: ServiceAccountVerifier,
    private readonly throttle: FailedAuthThrottle,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    const authorization = request.headers.authorization;
    const connection = request.raw.socket;
    const proven = connection && this.proven.recall(connection, authorization, this.clients.generation);
    if (proven) {
      request.caller = proven;
      return true;
    }
    const credential = bearerToken(authorization);
    if (!credential) return this.refuse(request, 'missing credentials: send Authorization: Bearer <apiKey>');
    // A caller this replica knows already is recognised without an await, as Nest's own guards
    // are: the token path's common case pays no promise chain for it.
    const generation = this.clients.generation;
    const known = this.knownCaller(credential);
    if (known) {
      if (connection) {
        this.proven.remember(connection, authorization!, known.caller, known.knownUntilMs, generation);
      }
      request.caller = known.caller;
      return true;
    }
    return this.identifyOrRefuse(request, credential);
  }

  private knownCaller(credential: string): KnownCaller | undefined {
    if (looksLikeApiKey(credential)) return this.clients.knownApiKeyCaller(credential);
    const token = this.serviceAccounts.remembered(credential);
    const known = token && this.clients.knownServiceAccountCaller(token.serviceAccount);
    // Known no longer than the token itself is valid.
    return (
      known && { caller: known.caller, knownUntilMs: Math.min(known.knownUntilMs, token.expiresAtMs - 1) }
    );
  }

  private async identifyOrRefuse(request: CallerRequest, credential: string): Promise<boolean> {
    const caller = await this.identify(credential);
    if (!caller) return this.refuse(request, 'unknown API key or ServiceAccount token');
    request.caller = caller;
    return true;
  }

  /** Only a failure meets the throttle: a valid credential is served whoever shares its address. */
  private async refuse(request: CallerRequest, message: string): Promise<never> {
    this.throttle.assertNotBlocked(request.ip);
    await this.throttle.recordFailure(request.ip);
    throw new BrokerError('unauthorized', message, { 'www-authenticate': 'Bearer' });
  }

  private identify(credential: string): Promise<Caller | null> {
    if (looksLikeApiKey(credential)) return this.clients.authenticateApiKey(credential);
    return this.identifyServiceAccount(credential);
  }

  private async identifyServiceAccount(token: string): Promise<Caller | null> {
    if (!this.serviceAccounts.enabled) return null;
    const serviceAccount = await this.serviceAccounts.verify(token);
    return serviceAccount ? this.clients.authenticateServiceAccount(serviceAccount) : null;
  }
}
