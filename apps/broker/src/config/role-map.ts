/** Admin roles, weakest first: each may do what the ones before it may. */
export const ADMIN_ROLES = ['viewer', 'operator', 'admin'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

export function isAdminRole(value: unknown): value is AdminRole {
  return typeof value === 'string' && (ADMIN_ROLES as readonly string[]).includes(value);
}

/**
 * `BROKER_ADMIN_OIDC_ROLE_MAP`: `role=group` pairs, comma-separated (a role may appear more than
 * once, a group may grant several roles; the strongest wins). Throws on a malformed pair.
 */
export function parseRoleMap(text: string): Map<string, AdminRole[]> {
  const map = new Map<string, AdminRole[]>();
  for (const pair of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = pair.indexOf('=');
    const role = pair.slice(0, separator).trim();
    const group = pair.slice(separator + 1).trim();
    if (separator < 1 || !group) throw new Error(`"${pair}" is not role=group`);
    if (!isAdminRole(role)) throw new Error(`"${role}" is not a role (admin, operator, viewer)`);
    map.set(group, [...(map.get(group) ?? []), role]);
  }
  return map;
}
