import {
  applyDecorators,
  CallHandler,
  CanActivate,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBearerAuth } from '@nestjs/swagger';
import { context as otelContext, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { adminActorContext } from '../audit/audit-log';
import type { AdminRequest } from '../admin-identities/admin-identity';
import { AdminRole, REQUIRED_ROLE_METADATA, roleAllows } from '../admin-identities/admin-roles';
import { AdminAuthenticator } from './admin-authenticator';
import { adminRouteName } from './admin-request-hook';

export { bearerToken } from './admin-authenticator';

/**
 * Guards `/admin/*`: the credential is checked by the admin request hook before any body is read
 * (this guard authenticates itself only where that hook did not run), then the route's role
 * (`@RequiresRole`) decides: 403 `forbidden` otherwise. A route stating no role is `admin` only.
 */
@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly authenticator: AdminAuthenticator,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AdminRequest>();
    const route = adminRouteName(request);
    const state = (request.admin ??= {});
    const identity = (state.identity ??= await this.authenticator.authenticate(request, route));
    const needed =
      this.reflector.getAllAndOverride<AdminRole | undefined>(REQUIRED_ROLE_METADATA, [
        context.getHandler(),
        context.getClass(),
      ]) ?? 'admin';
    if (!identity.role) {
      throw this.authenticator.refuse(
        identity,
        request,
        route,
        identity.missingRolesClaim
          ? `your token carries no "${identity.missingRolesClaim}" claim (BROKER_ADMIN_OIDC_ROLES_CLAIM): ask the identity provider to release it, e.g. by adding its scope to BROKER_ADMIN_OIDC_SCOPES`
          : 'no admin role is mapped to any of your groups (BROKER_ADMIN_OIDC_ROLE_MAP)',
      );
    }
    if (!roleAllows(identity.role, needed)) {
      throw this.authenticator.refuse(
        identity,
        request,
        route,
        `${route} needs the "${needed}" role; you have "${identity.role}"`,
      );
    }
    return true;
  }
}

/**
 * Runs the admin handler under the request's server span (so a provider call it makes sits in the
 * caller's trace) and with the admin as the audit's current actor (whose email the rows get).
 */
@Injectable()
export class AdminRequestContext implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const state = context.switchToHttp().getRequest<AdminRequest>().admin;
    const identity = state?.identity;
    const span = state?.span;
    return new Observable((subscriber) => {
      const run = () => {
        const subscription = next.handle().subscribe(subscriber);
        return () => subscription.unsubscribe();
      };
      const withActor = () =>
        identity ? adminActorContext.run({ actor: identity.actor, email: identity.email }, run) : run();
      return span ? otelContext.with(trace.setSpan(otelContext.active(), span), withActor) : withActor();
    });
  }
}

/** What every admin controller carries: the bearer scheme in OpenAPI, the guard, the request context. */
export function AdminRoutes(): ClassDecorator {
  return applyDecorators(ApiBearerAuth('admin'), UseGuards(AdminGuard), UseInterceptors(AdminRequestContext));
}
