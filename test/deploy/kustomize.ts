import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
} & Record<string, unknown>;

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
]);
const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'labels']);

/**
 * Renders a kustomization with exactly the features deploy/k8s uses (resources, namespace,
 * labels without selectors), so the manifests are checked where no kustomize binary exists.
 * Anything else in a kustomization.yaml is refused rather than silently ignored.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const spec = parseYaml(join(dir, 'kustomization.yaml'))[0] as Record<string, unknown>;
  const unknown = Object.keys(spec).filter((key) => !SUPPORTED.has(key));
  if (unknown.length) throw new Error(`${dir}: unsupported kustomize fields ${unknown.join(', ')}`);
  const objects: K8sObject[] = [];
  for (const entry of (spec.resources as string[]) ?? []) {
    const path = resolve(dir, entry);
    objects.push(
      ...(statSync(path).isDirectory() ? renderKustomization(path) : (parseYaml(path) as K8sObject[])),
    );
  }
  const labels = Object.assign(
    {},
    ...((spec.labels as { pairs: Record<string, string> }[]) ?? []).map((l) => l.pairs),
  );
  return objects.map((object) => {
    const copy = structuredClone(object);
    if (Object.keys(labels).length > 0) copy.metadata.labels = { ...(copy.metadata.labels ?? {}), ...labels };
    if (spec.namespace && !CLUSTER_SCOPED.has(copy.kind)) copy.metadata.namespace = spec.namespace as string;
    return copy;
  });
}

/** `kubectl kustomize` output, or null when kubectl is not installed. */
export function renderWithKubectl(dir: string): K8sObject[] | null {
  try {
    const out = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return parseAllDocuments(out).map((doc) => doc.toJSON() as K8sObject);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw error;
  }
}

function parseYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => doc.toJSON())
    .filter((doc) => doc !== null);
}
