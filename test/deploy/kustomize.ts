import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
} & Record<string, any>;

type LabelsEntry = { pairs: Record<string, string>; includeSelectors?: boolean; includeTemplates?: boolean };
type ImageEntry = { name: string; newName?: string; newTag?: string; digest?: string };
type Kustomization = {
  apiVersion?: string;
  kind?: string;
  namespace?: string;
  labels?: LabelsEntry[];
  resources?: string[];
  images?: ImageEntry[];
};

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
]);
const SUPPORTED = new Set(['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'images']);

/**
 * Renders a kustomization with exactly the features deploy/k8s uses, so the manifests can be
 * checked where no kustomize binary exists: `resources` (files and directories), `namespace`,
 * `labels` on metadata only (no selectors, no templates) and `images`. Any other field, or a label
 * option it does not implement, is refused rather than silently ignored. Like kustomize, a
 * kustomization's transformers apply to everything it includes, and an id (kind/name) may
 * appear only once.
 */
export function renderKustomization(dir: string): K8sObject[] {
  const spec = parseYaml(join(dir, 'kustomization.yaml'))[0] as Kustomization;
  const unsupported = Object.keys(spec).filter((key) => !SUPPORTED.has(key));
  if (unsupported.length) throw new Error(`${dir}: unsupported kustomize fields ${unsupported.join(', ')}`);
  if (spec.kind !== 'Kustomization') throw new Error(`${dir}: not a Kustomization`);

  const objects: K8sObject[] = [];
  const ids = new Set<string>();
  for (const entry of spec.resources ?? []) {
    const path = resolve(dir, entry);
    const loaded = statSync(path).isDirectory()
      ? renderKustomization(path)
      : (parseYaml(path) as K8sObject[]);
    for (const object of loaded) {
      const id = `${object.kind}/${object.metadata?.name}`;
      if (ids.has(id)) throw new Error(`${dir}: ${id} is defined twice`);
      ids.add(id);
      objects.push(structuredClone(object));
    }
  }

  const labels: Record<string, string> = {};
  for (const entry of spec.labels ?? []) {
    if (entry.includeSelectors || entry.includeTemplates) {
      throw new Error(`${dir}: labels with includeSelectors or includeTemplates are not implemented`);
    }
    Object.assign(labels, entry.pairs);
  }

  for (const object of objects) {
    if (spec.namespace && !CLUSTER_SCOPED.has(object.kind)) object.metadata.namespace = spec.namespace;
    if (Object.keys(labels).length > 0) object.metadata.labels = { ...object.metadata.labels, ...labels };
    for (const container of podContainers(object)) {
      container.image = replaceImage(container.image, spec.images ?? []);
    }
  }
  return objects;
}

/** The containers and init containers of a Pod, or of a workload's pod template. */
export function podContainers(object: K8sObject): { name: string; image: string }[] {
  const pod = object.kind === 'Pod' ? object.spec : object.spec?.template?.spec;
  return pod ? [...(pod.initContainers ?? []), ...(pod.containers ?? [])] : [];
}

/** kustomize's `images`: match on the name without tag or digest, then swap name, tag or digest. */
function replaceImage(image: string, entries: ImageEntry[]): string {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const colon = withoutDigest.lastIndexOf(':');
  const hasTag = colon > withoutDigest.lastIndexOf('/');
  const name = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;

  const entry = entries.find((e) => e.name === name);
  if (!entry) return image;
  const newName = entry.newName ?? name;
  if (entry.digest) return `${newName}@${entry.digest}`;
  if (entry.newTag) return `${newName}:${entry.newTag}`;
  return `${newName}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`;
}

/** `kubectl kustomize` output, or null when kubectl is not installed. */
export function renderWithKubectl(dir: string): K8sObject[] | null {
  let out: string;
  try {
    out = execFileSync('kubectl', ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return null;
    throw error;
  }
  return parseAllDocuments(out).map((doc) => doc.toJSON() as K8sObject);
}

function parseYaml(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
      return doc.toJSON();
    })
    .filter((doc) => doc !== null);
}
