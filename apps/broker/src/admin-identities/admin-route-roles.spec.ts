import { readFileSync } from 'node:fs';
import { ADMIN_ROLES, REQUIRED_ROLE_EXTENSION } from './admin-roles';

/**
 * Every admin operation states the role it needs. Read from the committed OpenAPI document, which
 * the foundation e2e keeps equal to the one the broker serves (every route of every module), so a
 * route added anywhere without `@RequiresRole` fails here once the document is regenerated; and the
 * guard refuses such a route to everyone but `admin` meanwhile.
 */
type Operations = Record<string, Record<string, Record<string, unknown>>>;

function adminOperations(paths: Operations): Array<{ operation: string; role: unknown }> {
  return Object.entries(paths)
    .filter(([path]) => /^\/admin(\/|$)/.test(path))
    .flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        operation: `${method.toUpperCase()} ${path}`,
        role: operation[REQUIRED_ROLE_EXTENSION],
      })),
    );
}

function withoutRole(paths: Operations): string[] {
  return adminOperations(paths)
    .filter(({ role }) => !ADMIN_ROLES.includes(role as never))
    .map(({ operation }) => operation);
}

describe('admin route roles', () => {
  const { paths } = JSON.parse(readFileSync('docs/openapi.json', 'utf8')) as { paths: Operations };

  it('gives every admin operation of the OpenAPI document a role', () => {
    expect(adminOperations(paths).length).toBeGreaterThanOrEqual(19);
    expect(withoutRole(paths)).toEqual([]);
  });

  it('gives every GET a viewer role and the contract roles to the others', () => {
    const roles = Object.fromEntries(adminOperations(paths).map(({ operation, role }) => [operation, role]));
    for (const [operation, role] of Object.entries(roles))
      if (operation.startsWith('GET ')) expect({ operation, role }).toEqual({ operation, role: 'viewer' });
    expect(roles).toMatchObject({
      'POST /admin/connections': 'operator',
      'POST /admin/connections/import': 'operator',
      'POST /admin/connections/{key}/authorize': 'operator',
      'POST /admin/connections/{key}/refresh': 'operator',
      'DELETE /admin/connections/{key}': 'operator',
      'POST /admin/integrations': 'admin',
      'PATCH /admin/integrations/{key}': 'admin',
      'DELETE /admin/integrations/{key}': 'admin',
      'POST /admin/clients': 'admin',
      'DELETE /admin/clients/{id}': 'admin',
      'POST /admin/tokens': 'admin',
      'DELETE /admin/tokens/{id}': 'admin',
    });
  });

  it('would notice an admin operation without a role', () => {
    const changed = structuredClone(paths);
    delete changed['/admin/tokens'].get[REQUIRED_ROLE_EXTENSION];
    changed['/admin/new-thing'] = { post: {} };
    expect(withoutRole(changed)).toEqual(['GET /admin/tokens', 'POST /admin/new-thing']);
  });
});
