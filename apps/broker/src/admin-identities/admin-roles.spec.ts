import { roleAllows, strongestRole } from './admin-roles';
import { parseRoleMap } from '../config/role-map';

describe('admin roles', () => {
  it('orders viewer < operator < admin', () => {
    expect(roleAllows('admin', 'operator')).toBe(true);
    expect(roleAllows('operator', 'operator')).toBe(true);
    expect(roleAllows('operator', 'admin')).toBe(false);
    expect(roleAllows('viewer', 'operator')).toBe(false);
    expect(strongestRole(['viewer', 'admin', 'operator'])).toBe('admin');
    expect(strongestRole([])).toBeUndefined();
  });

  it('maps groups to roles; a group may grant several, a role may come from several', () => {
    const map = parseRoleMap(
      'admin=token-broker-admins, viewer=engineering,operator=engineering,viewer=support',
    );
    expect(Object.fromEntries(map)).toEqual({
      'token-broker-admins': ['admin'],
      engineering: ['viewer', 'operator'],
      support: ['viewer'],
    });
    expect(parseRoleMap('').size).toBe(0);
    expect(() => parseRoleMap('owner=x')).toThrow('"owner" is not a role');
    expect(() => parseRoleMap('=x')).toThrow('is not role=group');
    expect(() => parseRoleMap('admin=')).toThrow('is not role=group');
  });
});
