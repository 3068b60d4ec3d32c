import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Span } from '@opentelemetry/api';
import type { AdminRole } from './admin-roles';

/** How an admin proved who they are. */
export type AdminCredentialKind = 'bootstrap' | 'token' | 'oidc';

/** Who is calling the admin API, as the audit names them. Holds no credential. */
export interface AdminIdentity {
  kind: AdminCredentialKind;
  /** `bootstrap`, `token:<name>` or `oidc:<subject>`: the audit's actor. */
  actor: string;
  /** Null for a signed-in person none of whose groups maps to a role. */
  role: AdminRole | null;
  /** Why a signed-in person has no role, when it is not their groups: the token lacks the roles claim. */
  missingRolesClaim?: string;
  /** The named token's id (token only): what a token it mints hangs from. */
  tokenId?: string;
  /** The person's email when the provider gives one (oidc only). */
  email?: string;
}

/** What the admin request hook leaves on the request for the guard and the handler. */
export interface AdminRequestState {
  identity?: AdminIdentity;
  /** The refusal the hook answered with already (then the guard never runs). */
  refused?: boolean;
  span?: Span;
}

export type AdminRequest = FastifyRequest & { admin?: AdminRequestState };

/** The calling admin's identity, set by the admin guard before any handler runs. */
export const CurrentAdmin = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AdminIdentity => {
    const identity = context.switchToHttp().getRequest<AdminRequest>().admin?.identity;
    if (!identity) throw new Error('CurrentAdmin used on a route without the admin guard');
    return identity;
  },
);
