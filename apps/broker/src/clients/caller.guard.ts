import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { BrokerError } from '../common/broker-error';
import { bearerToken } from '../security/admin.guard';
import { Caller, ClientsService } from './clients.service';

export type CallerRequest = FastifyRequest & { caller?: Caller };

/** Recognises the calling service from its API key; the token API's 401. */
@Injectable()
export class CallerGuard implements CanActivate {
  constructor(private readonly clients: ClientsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<CallerRequest>();
    const apiKey = bearerToken(request.headers.authorization);
    if (!apiKey) {
      throw new BrokerError('unauthorized', 'missing API key: send Authorization: Bearer <apiKey>', {
        'www-authenticate': 'Bearer',
      });
    }
    const caller = await this.clients.authenticate(apiKey);
    if (!caller) throw new BrokerError('unauthorized', 'unknown API key', { 'www-authenticate': 'Bearer' });
    request.caller = caller;
    return true;
  }
}
