import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BrokerError } from '../common/broker-error';
import { bearerToken } from '../security/admin.guard';
import { FailedAuthThrottle } from '../security/failed-auth-throttle';
import { Caller, ClientsService, looksLikeApiKey } from './clients.service';
import { ServiceAccountVerifier } from './service-account-verifier';

export type CallerRequest = FastifyRequest & { caller?: Caller };

/**
 * Recognises the calling service: a client API key, or a pod's projected ServiceAccount token
 * when ServiceAccount callers are configured. The token API's 401, and its 429 for a source that
 * keeps failing.
 */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(
    private readonly clients: ClientsService,
    private readonly serviceAccounts: ServiceAccountVerifier,
    private readonly throttle: FailedAuthThrottle,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    this.throttle.assertNotBlocked(request.ip);
    const credential = bearerToken(request.headers.authorization);
    if (!credential) {
      throw new BrokerError('unauthorized', 'missing credentials: send Authorization: Bearer <apiKey>', {
        'www-authenticate': 'Bearer',
      });
    }
    // A caller this replica knows already is recognised without an await, as Nest's own guards
    // are: the token path's common case pays no promise chain for it.
    const known = this.knownCaller(credential);
    if (known) {
      request.caller = known;
      return true;
    }
    return this.identifyOrRefuse(request, credential);
  }

  private knownCaller(credential: string): Caller | undefined {
    if (looksLikeApiKey(credential)) return this.clients.knownApiKeyCaller(credential);
    const serviceAccount = this.serviceAccounts.remembered(credential);
    return serviceAccount === undefined ? undefined : this.clients.knownServiceAccountCaller(serviceAccount);
  }

  private async identifyOrRefuse(request: CallerRequest, credential: string): Promise<boolean> {
    const caller = await this.identify(credential);
    if (!caller) {
      await this.throttle.recordFailure(request.ip);
      throw new BrokerError('unauthorized', 'unknown API key or ServiceAccount token', {
        'www-authenticate': 'Bearer',
      });
    }
    request.caller = caller;
    return true;
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
