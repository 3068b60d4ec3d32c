import { Injectable, Logger } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { AdminIdentity } from '../admin-identities/admin-identity';
import { AdminTokensService, looksLikeAdminToken } from '../admin-identities/admin-tokens.service';
import { OidcVerifier } from '../admin-identities/oidc-verifier';
import { FailedAuthThrottle } from './failed-auth-throttle';

const BOOTSTRAP: AdminIdentity = { kind: 'bootstrap', actor: 'bootstrap', role: 'admin' };
/** Three base64url parts: the shape of a JWS, the only shape sent to the identity provider's keys. */
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_CREDENTIAL_LENGTH = 16_384;

/**
 * Who an admin credential belongs to: the bootstrap token (`BROKER_ADMIN_TOKEN`, compared in
 * constant time), a named admin token, or a token of the company's OpenID Connect provider.
 *
 * The order with the failed-authentication throttle: a valid credential is never refused by it
 * (nothing is asked of the throttle first); only a missing or invalid one asks whether its
 * address is blocked (429) and then counts as a failure.
 */
@Injectable()
export class AdminAuthenticator {
  private readonly logger = new Logger(AdminAuthenticator.name);
  private readonly bootstrapDigest?: Buffer;

  constructor(
    env: BrokerEnvironment,
    private readonly throttle: FailedAuthThrottle,
    private readonly tokens: AdminTokensService,
    private readonly oidc: OidcVerifier,
    private readonly audit: AuditLog,
  ) {
    if (env.BROKER_ADMIN_TOKEN) this.bootstrapDigest = digest(env.BROKER_ADMIN_TOKEN);
  }

  /** The identity behind the request's credential; throws 401, 429 or 503 (audited) otherwise. */
  async authenticate(request: FastifyRequest, route: string): Promise<AdminIdentity> {
    let failure: BrokerError;
    try {
      const identity = await this.identify(bearerToken(request.headers.authorization));
      if (identity) return identity;
      failure = new BrokerError('unauthorized', 'invalid admin credential', { 'www-authenticate': 'Bearer' });
    } catch (error) {
      if (!(error instanceof BrokerError)) throw error; // Postgres away: a 503 from the filter
      failure = error;
    }
    try {
      this.throttle.assertNotBlocked(request.ip);
      // The provider being away is not the caller's failure; it is refused (503), not counted.
      if (failure.code === 'unauthorized') await this.throttle.recordFailure(request.ip);
    } catch (blocked) {
      if (blocked instanceof BrokerError) failure = blocked;
      else throw blocked;
    }
    this.audit.countAdminRefusal({
      actor: 'unauthenticated',
      route,
      outcome: failure.code as 'unauthorized' | 'too_many_requests' | 'service_unavailable',
      reason: failure.message,
      ip: request.ip,
    });
    throw failure;
  }

  /** Records a refusal of an authenticated admin (403) in the audit, bounded like the others. */
  refuse(identity: AdminIdentity, request: FastifyRequest, route: string, reason: string): BrokerError {
    this.audit.countAdminRefusal({
      actor: identity.actor,
      route,
      outcome: 'forbidden',
      reason,
      ip: request.ip,
    });
    return new BrokerError('forbidden', reason);
  }

  private async identify(credential: string | undefined): Promise<AdminIdentity | null> {
    if (!credential)
      throw new BrokerError('unauthorized', 'missing admin bearer token', { 'www-authenticate': 'Bearer' });
    if (credential.length > MAX_CREDENTIAL_LENGTH) return null;
    if (this.bootstrapDigest && timingSafeEqual(digest(credential), this.bootstrapDigest)) return BOOTSTRAP;
    if (looksLikeAdminToken(credential)) return this.tokens.authenticate(credential);
    if (JWT_SHAPE.test(credential) && this.oidc.enabled) {
      const person = await this.oidc.verify(credential);
      // The tokens this person minted are held to the role they hold now.
      await this.tokens.notePerson(person).catch((error: unknown) => {
        this.logger.warn({ err: error }, "a signed-in person's role could not be recorded");
      });
      return person;
    }
    return null;
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
