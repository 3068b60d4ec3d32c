import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ADMIN_ROLES, type AdminRole } from '../config/role-map';

// The role names sit in config/, which validates the OIDC role map at boot (config uses no room above it).
export { ADMIN_ROLES, isAdminRole, type AdminRole } from '../config/role-map';

export const REQUIRED_ROLE_METADATA = 'broker:admin-required-role';
export const REQUIRED_ROLE_EXTENSION = 'x-required-role';

/** Whether a holder of `held` may do what needs `needed`. */
export function roleAllows(held: AdminRole, needed: AdminRole): boolean {
  return ADMIN_ROLES.indexOf(held) >= ADMIN_ROLES.indexOf(needed);
}

/** The weaker of two roles. */
export function weakerRole(a: AdminRole, b: AdminRole): AdminRole {
  return roleAllows(a, b) ? b : a;
}

/** The strongest of the roles, or undefined for none. */
export function strongestRole(roles: Iterable<AdminRole>): AdminRole | undefined {
  let strongest: AdminRole | undefined;
  for (const role of roles) if (!strongest || roleAllows(role, strongest)) strongest = role;
  return strongest;
}

/**
 * The role an admin route needs, for the guard (metadata) and for readers of the OpenAPI document
 * (`x-required-role`). Every admin route states one: a unit spec fails on a route without it, and
 * the guard refuses such a route to everyone but `admin`.
 */
export function RequiresRole(role: AdminRole): MethodDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_ROLE_METADATA, role),
    ApiExtension(REQUIRED_ROLE_EXTENSION, role),
  );
}
