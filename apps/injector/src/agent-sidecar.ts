/**
 * The agent as the injector adds it: the same container as deploy/k8s/overlays/sidecar-example
 * (resources, probes, security context, runtime flags), which test/deploy checks, with the port,
 * memory and required header a pod's annotations may choose.
 */

export const AGENT_CONTAINER_NAME = 'token-agent';
export const AGENT_MAIN = 'dist/apps/agent/src/main.js';
/** The runtime flags of `npm run start:agent` (test/deploy keeps the two equal). */
export const AGENT_COMMAND = ['node', '--max-old-space-size=32', '--max-semi-space-size=1', AGENT_MAIN];
export const DEFAULT_AGENT_PORT = 7070;
/** From the agent footprint benchmark (docs/benchmarks.md): idle RSS under 60 MB. */
export const AGENT_MEMORY_REQUEST_MIB = 64;
export const DEFAULT_AGENT_MEMORY_LIMIT = '96Mi';
export const TOKEN_VOLUME = 'token-broker-token';
export const TMP_VOLUME = 'token-agent-tmp';
export const TOKEN_DIR = '/var/run/secrets/tokens';
export const TOKEN_PATH = 'broker-token';
/** One hour, rotated by the kubelet at 80 % of its life; the agent re-reads it when it changes. */
export const TOKEN_EXPIRATION_SECONDS = 3600;

export interface SidecarSettings {
  image: string;
  brokerUrl: string;
  audience: string;
  port: number;
  memoryLimit: string;
  requireHeader: string | null;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  env?: EnvVar[];
  ports?: { containerPort: number }[];
  [field: string]: unknown;
}

export interface Volume {
  name: string;
  [field: string]: unknown;
}

/** An exec probe on loopback: the kubelet sends httpGet probes to the pod IP, where the agent does not listen. */
function probe(port: number, path: string, periodSeconds: number, failureThreshold: number) {
  const script =
    `exec 3<>/dev/tcp/127.0.0.1/${port} && ` +
    `printf "GET ${path} HTTP/1.0\\r\\nHost: 127.0.0.1\\r\\n\\r\\n" >&3 && ` +
    `read -r -t 2 _ status _ <&3 && [ "$status" = 200 ]`;
  return {
    exec: { command: ['bash', '-c', script] },
    periodSeconds,
    timeoutSeconds: 3,
    failureThreshold,
  };
}

export function agentContainer(settings: SidecarSettings): Container {
  const env: EnvVar[] = [
    { name: 'AGENT_BROKER_URL', value: settings.brokerUrl },
    { name: 'AGENT_TOKEN_FILE', value: `${TOKEN_DIR}/${TOKEN_PATH}` },
    { name: 'AGENT_PORT', value: String(settings.port) },
  ];
  if (settings.requireHeader) env.push({ name: 'AGENT_REQUIRE_HEADER', value: settings.requireHeader });
  return {
    name: AGENT_CONTAINER_NAME,
    image: settings.image,
    // A native sidecar (Kubernetes 1.29+): started and ready before the app, stopped after it,
    // and no obstacle to a Job's pod completing.
    restartPolicy: 'Always',
    command: AGENT_COMMAND,
    env,
    resources: {
      requests: { cpu: '20m', memory: `${AGENT_MEMORY_REQUEST_MIB}Mi` },
      limits: { memory: settings.memoryLimit },
    },
    // Ready means the central broker accepted the agent's credential.
    startupProbe: probe(settings.port, '/health/ready', 1, 60),
    readinessProbe: probe(settings.port, '/health/ready', 10, 3),
    livenessProbe: probe(settings.port, '/health/live', 10, 3),
    // The pod's own securityContext is the team's: the agent states its own, the manifest's plus
    // the user and seccomp profile the example pod sets at pod level.
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: [
      { name: TMP_VOLUME, mountPath: '/tmp' },
      { name: TOKEN_VOLUME, mountPath: TOKEN_DIR, readOnly: true },
    ],
  };
}

export function agentVolumes(settings: SidecarSettings): Volume[] {
  return [
    { name: TMP_VOLUME, emptyDir: { sizeLimit: '16Mi' } },
    {
      name: TOKEN_VOLUME,
      projected: {
        sources: [
          {
            serviceAccountToken: {
              path: TOKEN_PATH,
              audience: settings.audience,
              expirationSeconds: TOKEN_EXPIRATION_SECONDS,
            },
          },
        ],
      },
    },
  ];
}

/** Whether a container is the agent: by name, or by its entry point (a hand-written sidecar). */
export function isAgent(container: Container): boolean {
  return (
    container.name === AGENT_CONTAINER_NAME ||
    (Array.isArray(container.command) && container.command.some((part) => part.endsWith(AGENT_MAIN)))
  );
}
