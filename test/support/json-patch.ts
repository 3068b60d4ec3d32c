/**
 * RFC 6902 `add` and `replace`, applied as strictly as the API server applies a webhook's patch:
 * the parent of every target must exist (an array is not created on the way), an array index
 * must be in range (`-` appends), and `~1` / `~0` in a path stand for `/` and `~` (RFC 6901).
 * Anything else (another op, a bad pointer) throws. Returns a patched copy.
 */
export type Operation = { op: string; path: string; value?: unknown };

export function applyJsonPatch<T>(document: T, operations: Operation[]): T {
  let root: unknown = structuredClone(document);
  for (const { op, path, value } of operations) {
    if (op !== 'add' && op !== 'replace') throw new Error(`unsupported op "${op}" at ${path}`);
    if (path === '') {
      root = structuredClone(value);
      continue;
    }
    if (!path.startsWith('/')) throw new Error(`"${path}" is not a JSON pointer`);
    const tokens = path
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (path.split('/').some((raw) => /~(?![01])/.test(raw))) throw new Error(`bad escape in "${path}"`);
    const last = tokens.pop()!;
    let parent: unknown = root;
    for (const token of tokens) {
      parent = child(parent, token, path);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : arrayIndex(last, path);
      if (op === 'add') {
        if (index > parent.length) throw new Error(`index ${last} out of range at ${path}`);
        parent.splice(index, 0, structuredClone(value));
      } else {
        if (index >= parent.length) throw new Error(`index ${last} out of range at ${path}`);
        parent[index] = structuredClone(value);
      }
    } else if (parent !== null && typeof parent === 'object') {
      const object = parent as Record<string, unknown>;
      if (op === 'replace' && !(last in object)) throw new Error(`nothing to replace at ${path}`);
      object[last] = structuredClone(value);
    } else {
      throw new Error(`the parent of ${path} is not an object or array`);
    }
  }
  return root as T;
}

function child(parent: unknown, token: string, path: string): unknown {
  if (Array.isArray(parent)) {
    const index = arrayIndex(token, path);
    if (index >= parent.length) throw new Error(`index ${token} out of range at ${path}`);
    return parent[index];
  }
  if (parent !== null && typeof parent === 'object' && token in parent) {
    return (parent as Record<string, unknown>)[token];
  }
  throw new Error(`"${token}" does not exist on the way to ${path}`);
}

function arrayIndex(token: string, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`"${token}" is not an array index at ${path}`);
  return Number(token);
}
