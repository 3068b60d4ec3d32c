import { REQUIRE_HEADER_PATTERN } from '../../agent/src/environment';
import {
  agentContainer,
  agentVolumes,
  AGENT_MEMORY_REQUEST_MIB,
  Container,
  DEFAULT_AGENT_MEMORY_LIMIT,
  DEFAULT_AGENT_PORT,
  isAgent,
  SidecarSettings,
  TMP_VOLUME,
  TOKEN_VOLUME,
  Volume,
} from './agent-sidecar';

export const INJECT_ANNOTATION = 'token-broker.io/inject';
export const PORT_ANNOTATION = 'token-broker.io/agent-port';
export const MEMORY_ANNOTATION = 'token-broker.io/agent-memory';
export const REQUIRE_HEADER_ANNOTATION = 'token-broker.io/require-header';
const KNOWN_ANNOTATIONS = [INJECT_ANNOTATION, PORT_ANNOTATION, MEMORY_ANNOTATION, REQUIRE_HEADER_ANNOTATION];
/** The pod label the central api's NetworkPolicy admits (deploy/k8s/overlays/central). */
export const AGENT_POD_LABEL = 'token-broker/agent';
export const APP_URL_VARIABLE = 'TOKEN_BROKER_URL';

export interface InjectorSettings {
  agentImage: string;
  brokerUrl: string;
  tokenAudience: string;
}

export interface Pod {
  metadata?: {
    name?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    volumes?: Volume[];
    hostNetwork?: boolean;
  };
}

export type PatchOperation = { op: 'add'; path: string; value: unknown };

export interface Mutation {
  /** Empty when the pod is left as it is. */
  patch: PatchOperation[];
  warnings: string[];
  /** Why the pod was left alone, for the log; null when patched. */
  skipped: string | null;
}

/** RFC 6901: `~` and `/` in a key are written `~0` and `~1`. */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** `64Mi` to `1Gi`, in Mi or Gi: a limit under the agent's idle footprint would only OOM-kill it. */
function memoryLimit(raw: string): string | null {
  const match = /^([1-9]\d{0,5})(Mi|Gi)$/.exec(raw);
  if (!match) return null;
  const mib = Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
  return mib >= AGENT_MEMORY_REQUEST_MIB && mib <= 1024 ? raw : null;
}

/**
 * What the injector does to one pod: the JSONPatch that adds the agent and points every app
 * container at it, or nothing (with warnings when the pod asked but said something wrong). It
 * never refuses a pod: a pod the webhook cannot help is admitted as it came.
 */
export function mutatePod(pod: Pod, settings: InjectorSettings): Mutation {
  const annotations = pod.metadata?.annotations ?? {};
  const leave = (skipped: string, warnings: string[] = []): Mutation => ({ patch: [], warnings, skipped });
  const requested = annotations[INJECT_ANNOTATION];
  if (requested === undefined || requested === 'false') return leave('not requested');
  if (requested !== 'true') {
    return leave('bad annotation', [
      `${INJECT_ANNOTATION} must be "true" or "false", got "${requested}": the token agent was not added`,
    ]);
  }
  const spec = pod.spec ?? {};
  const containers = spec.containers ?? [];
  const initContainers = spec.initContainers ?? [];
  if ([...initContainers, ...containers].some(isAgent)) return leave('agent already present');

  // On the host network, 127.0.0.1 is the node's: every process on the node could read the
  // pod's tokens, and two such pods on a node would fight over the port.
  if (spec.hostNetwork) {
    return leave('host network', [
      'the pod uses the host network, where the agent would serve every process on the node: the token agent was not added',
    ]);
  }
  const warnings: string[] = [];
  // A misspelt option must not leave a setting silently at its default (as the agent refuses an
  // unknown AGENT_ variable).
  const unknown = Object.keys(annotations).find(
    (key) => key.startsWith('token-broker.io/') && !KNOWN_ANNOTATIONS.includes(key),
  );
  if (unknown) warnings.push(`${unknown} is not a known annotation (known: ${KNOWN_ANNOTATIONS.join(', ')})`);
  let port = DEFAULT_AGENT_PORT;
  const rawPort = annotations[PORT_ANNOTATION];
  if (rawPort !== undefined) {
    // Not below 1024: the agent runs without capabilities and cannot bind a privileged port.
    if (!/^\d{4,5}$/.test(rawPort) || Number(rawPort) < 1024 || Number(rawPort) > 65_535) {
      warnings.push(`${PORT_ANNOTATION} must be an integer from 1024 to 65535, got "${rawPort}"`);
      port = 0;
    } else port = Number(rawPort);
  }
  const taken = [...initContainers, ...containers].find((c) =>
    (c.ports ?? []).some((p) => p.containerPort === port),
  );
  if (taken) {
    warnings.push(
      `container "${taken.name}" declares port ${port}, which the agent would listen on: set ${PORT_ANNOTATION}`,
    );
  }
  let memory = DEFAULT_AGENT_MEMORY_LIMIT;
  const rawMemory = annotations[MEMORY_ANNOTATION];
  if (rawMemory !== undefined) {
    const limit = memoryLimit(rawMemory);
    if (limit === null) {
      warnings.push(
        `${MEMORY_ANNOTATION} must be a memory limit from ${AGENT_MEMORY_REQUEST_MIB}Mi to 1Gi in Mi or Gi, got "${rawMemory}"`,
      );
    } else memory = limit;
  }
  const requireHeader = annotations[REQUIRE_HEADER_ANNOTATION] ?? null;
  if (requireHeader !== null && !REQUIRE_HEADER_PATTERN.test(requireHeader)) {
    warnings.push(
      `${REQUIRE_HEADER_ANNOTATION} must be "Name: value", e.g. "Metadata-Flavor: token-agent", got "${requireHeader}"`,
    );
  }
  const clash = (spec.volumes ?? []).find((v) => [TMP_VOLUME, TOKEN_VOLUME].includes(v.name));
  if (clash) warnings.push(`the pod already has a volume named "${clash.name}", which the agent needs`);
  if (warnings.length > 0) {
    return leave(
      'bad annotation',
      warnings.map((w) => `${w}: the token agent was not added`),
    );
  }

  const sidecar: SidecarSettings = {
    image: settings.agentImage,
    brokerUrl: settings.brokerUrl,
    audience: settings.tokenAudience,
    port,
    memoryLimit: memory,
    requireHeader,
  };
  const patch: PatchOperation[] = [];
  // First among the init containers: the ones after it (and the app) can read tokens from the start.
  patch.push(
    spec.initContainers
      ? { op: 'add', path: pointer('spec', 'initContainers', 0), value: agentContainer(sidecar) }
      : { op: 'add', path: pointer('spec', 'initContainers'), value: [agentContainer(sidecar)] },
  );
  const volumes = agentVolumes(sidecar);
  if (spec.volumes) {
    for (const volume of volumes)
      patch.push({ op: 'add', path: pointer('spec', 'volumes', '-'), value: volume });
  } else {
    patch.push({ op: 'add', path: pointer('spec', 'volumes'), value: volumes });
  }
  const url = { name: APP_URL_VARIABLE, value: `http://127.0.0.1:${port}` };
  containers.forEach((container, index) => {
    if (container.env?.some((e) => e.name === APP_URL_VARIABLE)) return;
    patch.push(
      container.env
        ? { op: 'add', path: pointer('spec', 'containers', index, 'env', '-'), value: url }
        : { op: 'add', path: pointer('spec', 'containers', index, 'env'), value: [url] },
    );
  });
  if (pod.metadata?.labels?.[AGENT_POD_LABEL] !== 'true') {
    patch.push(
      pod.metadata?.labels
        ? { op: 'add', path: pointer('metadata', 'labels', AGENT_POD_LABEL), value: 'true' }
        : { op: 'add', path: pointer('metadata', 'labels'), value: { [AGENT_POD_LABEL]: 'true' } },
    );
  }
  return { patch, warnings: [], skipped: null };
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  request?: {
    uid: string;
    kind?: { group?: string; version?: string; kind?: string };
    operation?: string;
    namespace?: string;
    object?: unknown;
  };
  response?: {
    uid: string;
    allowed: true;
    patchType?: 'JSONPatch';
    patch?: string;
    warnings?: string[];
  };
}

export class BadReviewError extends Error {}

/** The API server's review in, the answer out: always allowed, with the request's uid. */
export function answerReview(
  body: unknown,
  settings: InjectorSettings,
): { review: AdmissionReview; mutation: Mutation; pod: Pod | null } {
  const review = body as Partial<AdmissionReview> | null;
  if (
    !review ||
    typeof review !== 'object' ||
    review.apiVersion !== 'admission.k8s.io/v1' ||
    review.kind !== 'AdmissionReview'
  ) {
    throw new BadReviewError('the body must be an admission.k8s.io/v1 AdmissionReview');
  }
  const request = review.request;
  if (!request || typeof request !== 'object' || typeof request.uid !== 'string' || request.uid === '') {
    throw new BadReviewError('the AdmissionReview must carry a request with a uid');
  }
  const object = request.object as Pod | undefined;
  const isPod =
    request.kind?.kind === 'Pod' &&
    (request.kind.group ?? '') === '' &&
    !!object &&
    typeof object === 'object';
  let mutation: Mutation = { patch: [], warnings: [], skipped: 'not a pod being created' };
  if (isPod && request.operation === 'CREATE') {
    try {
      mutation = mutatePod(object, settings);
    } catch {
      // A pod shaped as no API server sends: admitted as it came, never refused.
      mutation = {
        patch: [],
        warnings: ['the token agent was not added: the pod could not be read'],
        skipped: 'unreadable pod',
      };
    }
  }
  const response: AdmissionReview['response'] = { uid: request.uid, allowed: true };
  if (mutation.patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(mutation.patch)).toString('base64');
  }
  if (mutation.warnings.length > 0) response.warnings = mutation.warnings;
  return {
    review: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response },
    mutation,
    pod: isPod ? object : null,
  };
}
