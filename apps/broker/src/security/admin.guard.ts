import { CanActivate, Injectable } from '@nestjs/common';
import { ExecutionContext } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { FailedAuthThrottle } from './failed-auth-throttle';

/** Guards `/admin/*` with `Authorization: Bearer $BROKER_ADMIN_TOKEN`, compared in constant time. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expectedDigest: Buffer;

  constructor(
    env: BrokerEnvironment,
    private readonly throttle: FailedAuthThrottle,
  ) {
    this.expectedDigest = digest(env.BROKER_ADMIN_TOKEN ?? '');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const presented = bearerToken(request.headers.authorization);
    if (presented && timingSafeEqual(digest(presented), this.expectedDigest)) return true;
    // Only a failure meets the throttle: a valid admin is served whoever shares its address.
    this.throttle.assertNotBlocked(request.ip);
    await this.throttle.recordFailure(request.ip);
    throw new BrokerError('unauthorized', presented ? 'invalid admin token' : 'missing admin bearer token', {
      'www-authenticate': 'Bearer',
    });
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** The credential of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
