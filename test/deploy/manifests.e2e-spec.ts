/**
 * Offline checks of everything that deploys the broker: the kustomize overlays (rendered by
 * test/deploy/kustomize.ts, and compared with `kubectl kustomize` where kubectl is installed),
 * validated against the Kubernetes schemas and typings of kubernetes-models; the security and
 * operational invariants; the Dockerfile; docker-compose.yml (`docker-compose config` where the
 * binary is installed). Nothing here needs a cluster, a Docker engine or a built broker.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { ConfigMap, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { agentContainer } from '../../apps/injector/src/agent-sidecar';
import { parseInjectorEnvironment } from '../../apps/injector/src/environment';
import { AGENT_POD_LABEL } from '../../apps/injector/src/mutate';
import { validateEnvironment } from '../../apps/broker/src/config/environment';
import { K8sObject, podContainers, renderKustomization, renderWithKubectl } from './kustomize';
import { typeCheckObjects } from './typecheck';

const ROOT = process.cwd();
const K8S = resolve(ROOT, 'deploy/k8s');
const OVERLAYS = ['central', 'sidecar-example', 'migrate-job', 'injector'] as const;
const BROKER_IMAGE = 'ghcr.io/example/token-broker';
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  ConfigMap,
  Secret,
  Service,
  ServiceAccount,
  Deployment,
  Job,
  PodDisruptionBudget,
  NetworkPolicy,
  MutatingWebhookConfiguration,
  Certificate: certManager('Certificate'),
  Issuer: certManager('Issuer'),
};
/** cert-manager's kinds have no kubernetes-models: the fields deploy/k8s uses, checked by hand. */
function certManager(kind: 'Certificate' | 'Issuer') {
  return class {
    constructor(private readonly object: K8sObject) {}
    validate(): void {
      const { apiVersion, spec } = this.object;
      if (apiVersion !== 'cert-manager.io/v1') throw new Error(`${kind}: apiVersion ${apiVersion}`);
      const allowed =
        kind === 'Issuer'
          ? ['selfSigned', 'ca']
          : [
              'isCA',
              'commonName',
              'secretName',
              'duration',
              'renewBefore',
              'dnsNames',
              'usages',
              'privateKey',
              'issuerRef',
            ];
      const unknown = Object.keys(spec ?? {}).filter((key) => !allowed.includes(key));
      if (unknown.length) throw new Error(`${kind}: unknown fields ${unknown.join(', ')}`);
      if (kind === 'Issuer' && Object.keys(spec).length !== 1) throw new Error('Issuer: one issuer type');
      if (kind === 'Certificate' && (!spec.secretName || !spec.issuerRef?.name)) {
        throw new Error('Certificate: secretName and issuerRef.name are required');
      }
    }
  };
}
const CERT_MANAGER_KINDS = ['Certificate', 'Issuer'];
const CLUSTER_SCOPED_KINDS = ['MutatingWebhookConfiguration'];
/** Where each overlay's objects go, and the application they are part of. */
const PLACEMENT: Record<(typeof OVERLAYS)[number], { namespace: string; partOf: string }> = {
  central: { namespace: 'token-broker', partOf: 'token-broker' },
  'migrate-job': { namespace: 'token-broker', partOf: 'token-broker' },
  // An application's own namespace: it holds nothing of the broker's.
  'sidecar-example': { namespace: 'billing', partOf: 'billing' },
  injector: { namespace: 'token-broker', partOf: 'token-broker' },
};
const AGENT_MAIN = 'dist/apps/agent/src/main.js';
const INJECTOR_MAIN = 'dist/apps/injector/src/main.js';
/** What a secret manager would put in the Secret: values the broker accepts. */
const REAL_SECRETS: Record<string, string> = {
  DATABASE_URL: 'postgres://broker:s3cret@db.internal:5432/broker',
  REDIS_URL: 'redis://redis.internal:6379',
  BROKER_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  BROKER_ADMIN_TOKEN: 'x'.repeat(40),
};
/** The broker's ready check waits up to 1.5 s on each dependency (apps/broker/src/health). */
const READY_CHECK_SECONDS = 1.5;

type Probe = {
  httpGet?: { path: string; port: number | string; scheme?: string };
  exec?: { command: string[] };
  timeoutSeconds?: number;
};
type Container = {
  name: string;
  image: string;
  command?: string[];
  restartPolicy?: string;
  ports?: { name?: string; containerPort: number }[];
  env?: {
    name: string;
    value?: string;
    valueFrom?: {
      secretKeyRef?: { name: string; key: string };
      configMapKeyRef?: { name: string; key: string };
    };
  }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
  };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  volumeMounts?: { name: string; mountPath: string }[];
};
type Volume = {
  name: string;
  emptyDir?: object;
  configMap?: { name: string };
  projected?: { sources: { serviceAccountToken?: { audience?: string; path: string } }[] };
};
type PodSpec = {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
};

const hasCommand = (command: string) => {
  try {
    execFileSync('sh', ['-c', 'command -v "$0"', command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const render = (overlay: string) => renderKustomization(resolve(K8S, 'overlays', overlay));
const podSpec = (object: K8sObject): PodSpec | undefined => object.spec?.template?.spec;
const workloads = (objects: K8sObject[]) => objects.filter((o) => podSpec(o));
const allContainers = (spec: PodSpec) => [...(spec.initContainers ?? []), ...spec.containers];
const isBroker = (container: Container) => container.image.startsWith(`${BROKER_IMAGE}:`);
/** The sidecar agent runs from the broker's image with its own entry point. */
const isAgent = (container: Container) => isBroker(container) && !!container.command?.includes(AGENT_MAIN);
const isInjector = (container: Container) =>
  isBroker(container) && !!container.command?.includes(INJECTOR_MAIN);
/** Broker processes that serve HTTP (not the migration Job, which runs and exits, nor the agent). */
const brokerServers = (spec: PodSpec) => allContainers(spec).filter((c) => isBroker(c) && !c.command);
const envValue = (container: Container, name: string) => container.env?.find((e) => e.name === name)?.value;
const find = (objects: K8sObject[], kind: string, name: string) => {
  const object = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!object) throw new Error(`${kind}/${name} is not in the rendered overlay`);
  return object;
};
const probePath = (probe: Probe | undefined) =>
  probe?.httpGet?.path ?? probe?.exec?.command.join(' ').match(/GET (\S+) HTTP/)?.[1];

/**
 * The environment a container starts with, resolved through the rendered ConfigMaps and Secrets
 * (a missing object or key throws, as the kubelet would refuse to start the container). Secret
 * values are replaced by `secrets` where given, as a secret manager would fill them in.
 */
function containerEnv(
  container: Container,
  objects: K8sObject[],
  secrets: Record<string, string> = {},
): Record<string, string> {
  const configMap = (name: string): Record<string, string> => find(objects, 'ConfigMap', name).data ?? {};
  const secret = (name: string): Record<string, string> => ({
    ...find(objects, 'Secret', name).stringData,
    ...secrets,
  });
  const key = (data: Record<string, string>, name: string, ref: string) => {
    if (!(name in data)) throw new Error(`${container.name}: ${ref} has no key ${name}`);
    return data[name];
  };
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) Object.assign(env, configMap(from.configMapRef.name));
    if (from.secretRef) Object.assign(env, secret(from.secretRef.name));
  }
  for (const entry of container.env ?? []) {
    const { secretKeyRef, configMapKeyRef } = entry.valueFrom ?? {};
    if (entry.value !== undefined) env[entry.name] = entry.value;
    else if (secretKeyRef)
      env[entry.name] = key(secret(secretKeyRef.name), secretKeyRef.key, secretKeyRef.name);
    else if (configMapKeyRef) {
      env[entry.name] = key(configMap(configMapKeyRef.name), configMapKeyRef.key, configMapKeyRef.name);
    }
  }
  return env;
}

describe.each(OVERLAYS)('deploy/k8s/overlays/%s', (overlay) => {
  const objects = render(overlay);

  it('renders as `kubectl kustomize` does (where kubectl is installed)', () => {
    const rendered = renderWithKubectl(resolve(K8S, 'overlays', overlay));
    if (!rendered) {
      console.warn(`kubectl not installed: ${overlay} checked with test/deploy/kustomize.ts only`);
      return;
    }
    const byId = (list: K8sObject[]) =>
      Object.fromEntries(list.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
    expect(byId(rendered)).toEqual(byId(objects));
  });

  it('validates every object against the Kubernetes schemas (kubernetes-models)', () => {
    expect(objects.length).toBeGreaterThan(0);
    for (const object of objects) {
      const Model = MODELS[object.kind];
      expect(Model).toBeDefined();
      expect(() => new Model(object as never).validate()).not.toThrow();
    }
  });

  it('puts every object in its namespace with the part-of label, every image pinned', () => {
    const { namespace, partOf } = PLACEMENT[overlay];
    for (const object of objects) {
      expect(object.metadata.namespace).toBe(
        CLUSTER_SCOPED_KINDS.includes(object.kind) ? undefined : namespace,
      );
      expect(object.metadata.labels?.['app.kubernetes.io/part-of']).toBe(partOf);
      for (const container of podContainers(object)) {
        expect(container.image).toMatch(/^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/);
        expect(container.image).not.toMatch(/:latest$/);
      }
    }
    expect(objects.some((o) => podContainers(o).some((c) => c.image === `${BROKER_IMAGE}:0.1.0`))).toBe(true);
  });

  it('runs every pod as UID 10001, non-root, with the RuntimeDefault seccomp profile and no API token', () => {
    expect(workloads(objects).length).toBeGreaterThan(0);
    for (const object of workloads(objects)) {
      const spec = podSpec(object)!;
      expect(spec.securityContext).toEqual(
        expect.objectContaining({
          runAsNonRoot: true,
          runAsUser: 10001,
          seccompProfile: { type: 'RuntimeDefault' },
        }),
      );
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(typeof spec.terminationGracePeriodSeconds).toBe('number');
    }
  });

  it('locks every container down: read-only root, /tmp on an emptyDir, no escalation, no capabilities, sized', () => {
    for (const object of workloads(objects)) {
      const spec = podSpec(object)!;
      for (const container of allContainers(spec)) {
        const where = `${object.metadata.name}/${container.name}`;
        expect({ where, ...container.securityContext }).toEqual({
          where,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect({ where, tmp: spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir }).toEqual({
          where,
          tmp: expect.any(Object),
        });
        expect(container.resources?.requests).toEqual({
          cpu: expect.any(String),
          memory: expect.any(String),
        });
        expect(container.resources?.limits?.memory).toEqual(expect.any(String));
        // Every mount names a volume of the pod.
        for (const mount of container.volumeMounts ?? []) {
          expect(spec.volumes?.map((v) => v.name)).toContain(mount.name);
        }
      }
    }
  });

  it('probes every broker: startup and readiness on /health/ready, liveness on /health/live', () => {
    for (const object of workloads(objects)) {
      for (const broker of brokerServers(podSpec(object)!)) {
        expect(probePath(broker.startupProbe)).toBe('/health/ready');
        expect(probePath(broker.readinessProbe)).toBe('/health/ready');
        expect(probePath(broker.livenessProbe)).toBe('/health/live');
        for (const probe of [broker.startupProbe, broker.readinessProbe, broker.livenessProbe]) {
          // The default timeout (1 s) would fail the probe before the ready check answers 503.
          expect(probe?.timeoutSeconds).toBeGreaterThan(READY_CHECK_SECONDS);
          if (probe?.httpGet) {
            const port = probe.httpGet.port;
            expect(broker.ports?.some((p) => p.name === port || p.containerPort === port)).toBe(true);
          }
        }
      }
    }
  });

  it('gives every broker an environment the broker accepts, from ConfigMaps, Secrets and keys that exist', () => {
    for (const object of workloads(objects)) {
      for (const container of allContainers(podSpec(object)!).filter(
        (c) => isBroker(c) && !isAgent(c) && !isInjector(c),
      )) {
        const env = containerEnv(container, objects, REAL_SECRETS);
        if (container.command) {
          // The migration Job: migrate.js reads DATABASE_URL only.
          expect(container.command).toEqual(['node', 'dist/apps/broker/src/database/migrate.js']);
          expect(Object.keys(env)).toEqual(['DATABASE_URL']);
          continue;
        }
        const parsed = validateEnvironment(env);
        expect(parsed.BROKER_AUTO_MIGRATE).toBe(false);
        // Only the admin API reads the admin token: no other broker is given it.
        if (!parsed.adminApiEnabled) expect(env.BROKER_ADMIN_TOKEN).toBeUndefined();
        // Callers with a ServiceAccount token: the JWKS file is mounted where the broker looks.
        if (parsed.servesApi && parsed.BROKER_SA_JWKS_FILE) {
          const spec = podSpec(object)!;
          const mount = container.volumeMounts?.find((m) =>
            parsed.BROKER_SA_JWKS_FILE!.startsWith(`${m.mountPath}/`),
          );
          const volume = spec.volumes?.find((v) => v.name === mount?.name);
          const data = find(objects, 'ConfigMap', volume?.configMap?.name ?? '?').data;
          const file = parsed.BROKER_SA_JWKS_FILE.slice(mount!.mountPath.length + 1);
          expect(JSON.parse(data[file])).toEqual({ keys: expect.any(Array) });
        }
      }
    }
  });

  it('gives each serving pod time to drain: grace period > preStop + BROKER_SHUTDOWN_GRACE_MS', () => {
    for (const object of workloads(objects)) {
      const spec = podSpec(object)!;
      for (const broker of brokerServers(spec)) {
        const preStop = broker.lifecycle?.preStop?.exec?.command;
        const preStopSeconds = preStop?.[0] === 'sleep' ? Number(preStop[1]) : 0;
        const drainSeconds = Number(envValue(broker, 'BROKER_SHUTDOWN_GRACE_MS') ?? 10_000) / 1000;
        expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + drainSeconds);
      }
    }
  });
});

describe('kubernetes-models typings', () => {
  it('accept every rendered object: no unknown or misspelled field anywhere', () => {
    const objects = OVERLAYS.flatMap((overlay) => render(overlay)).filter(
      (o) => !CERT_MANAGER_KINDS.includes(o.kind),
    );
    expect(typeCheckObjects(objects, join(ROOT, 'test/deploy/typecheck.ts'))).toEqual([]);
  });

  it('would catch a misspelled field deep in a pod template', () => {
    const [api] = render('central').filter((o) => o.kind === 'Deployment');
    api.spec.template.spec.containers[0].securityContext = { readOnlyRootFileSystem: true };
    const problems = typeCheckObjects([api], join(ROOT, 'test/deploy/typecheck.ts'));
    expect(problems).toEqual([expect.stringContaining('\'"readOnlyRootFileSystem"\' does not exist')]);
  });
});

describe('the central overlay', () => {
  const objects = render('central');
  const api = find(objects, 'Deployment', 'token-broker-api');
  const worker = find(objects, 'Deployment', 'token-broker-worker');
  const apiBroker = podSpec(api)!.containers[0];
  const workerBroker = podSpec(worker)!.containers[0];

  it('runs an api Deployment (role api) and a worker Deployment (role worker), sized from the benchmark', () => {
    expect(envValue(apiBroker, 'BROKER_ROLE')).toBe('api');
    expect(envValue(workerBroker, 'BROKER_ROLE')).toBe('worker');
    expect(apiBroker.resources).toEqual({
      requests: { cpu: '100m', memory: '160Mi' },
      limits: { memory: '384Mi' },
    });
    expect(workerBroker.resources).toEqual({
      requests: { cpu: '100m', memory: '384Mi' },
      limits: { memory: '768Mi' },
    });
    expect(apiBroker.lifecycle?.preStop?.exec?.command).toEqual(['sleep', '5']);
  });

  it('puts the api pods, and only them, behind the Service and the PodDisruptionBudget', () => {
    const matches = (selector: Record<string, string>, deployment: K8sObject) =>
      Object.entries(selector).every(([k, v]) => deployment.spec.template.metadata.labels[k] === v);
    const service = find(objects, 'Service', 'token-broker');
    const pdb = find(objects, 'PodDisruptionBudget', 'token-broker-api');
    expect(matches(service.spec.selector, api)).toBe(true);
    expect(matches(service.spec.selector, worker)).toBe(false);
    expect(api.spec.selector.matchLabels).toEqual(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeLessThan(api.spec.replicas);
    expect(apiBroker.ports?.map((p) => p.name)).toContain(service.spec.ports[0].targetPort);
  });
});

describe('the central overlay: who may reach the api', () => {
  const objects = render('central');
  const api = find(objects, 'Deployment', 'token-broker-api');
  const policy = find(objects, 'NetworkPolicy', 'token-broker-api');
  const agentPod = find(render('sidecar-example'), 'Deployment', 'billing').spec.template.metadata.labels;

  it('admits agent pods from agent-labelled namespaces only, and labelled namespaces, to the api port only', () => {
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(policy.spec.podSelector.matchLabels, api.spec.template.metadata.labels)).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const [agents, others] = policy.spec.ingress;
    // A pod label alone admits nothing (a pod may give itself any label): its namespace must be
    // labelled for agents too, which only the cluster admin may do.
    expect(agents.from).toEqual([
      {
        namespaceSelector: { matchLabels: { 'token-broker/agents': 'true' } },
        podSelector: { matchLabels: expect.any(Object) },
      },
    ]);
    // The example application's pods carry the label the policy admits.
    expect(matches(agents.from[0].podSelector.matchLabels, agentPod)).toBe(true);
    expect(others.from).toEqual([{ namespaceSelector: { matchLabels: { 'token-broker/access': 'true' } } }]);
    const apiPorts = podSpec(api)!.containers[0].ports!.map((p) => p.name);
    for (const rule of policy.spec.ingress) {
      expect(rule.ports).toEqual([{ protocol: 'TCP', port: 'http' }]);
      expect(apiPorts).toContain(rule.ports[0].port);
    }
  });
});

describe('the sidecar example', () => {
  const objects = render('sidecar-example');
  const app = find(objects, 'Deployment', 'billing');
  const spec = podSpec(app)!;
  const agent = spec.initContainers?.find(isAgent);
  const probes = () => [agent!.startupProbe!, agent!.readinessProbe!, agent!.livenessProbe!];
  const startAgentScript = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts['start:agent'];

  it('runs the agent, not the broker, as a native sidecar: an init container that restarts always', () => {
    expect(agent).toBeDefined();
    expect(allContainers(spec).filter(isBroker)).toEqual([agent]);
    expect(agent!.restartPolicy).toBe('Always');
    expect(agent!.ports).toBeUndefined();
    // Sized from the agent footprint benchmark (docs/benchmarks.md): idle RSS under 60 MB.
    expect(agent!.resources).toEqual({
      requests: { cpu: '20m', memory: '64Mi' },
      limits: { memory: '96Mi' },
    });
  });

  it('starts it with the same runtime flags as `npm run start:agent`', () => {
    expect(startAgentScript).toBeDefined();
    expect(agent!.command!.join(' ')).toBe(startAgentScript.trim());
  });

  it('gives the agent no secret: only AGENT_ variables, no Secret, no ConfigMap, the projected token file', () => {
    expect(agent!.envFrom).toBeUndefined();
    expect(agent!.env!.every((e) => e.name.startsWith('AGENT_') && e.value !== undefined)).toBe(true);
    expect(objects.filter((o) => o.kind === 'Secret' || o.kind === 'ConfigMap')).toEqual([]);
    expect(envValue(agent!, 'AGENT_API_KEY')).toBeUndefined();
    // The central Service (deploy/k8s/overlays/central) on the port it listens on.
    expect(envValue(agent!, 'AGENT_BROKER_URL')).toBe('http://token-broker.token-broker.svc:3000');
    // The default host is loopback; nothing overrides it.
    expect(envValue(agent!, 'AGENT_HOST')).toBeUndefined();
    const tokenVolume = spec.volumes!.find((v) =>
      v.projected?.sources.some((s) => s.serviceAccountToken?.audience === 'token-broker'),
    )!;
    const mount = agent!.volumeMounts!.find((m) => m.name === tokenVolume.name)!;
    const path = tokenVolume.projected!.sources[0].serviceAccountToken!.path;
    expect(envValue(agent!, 'AGENT_TOKEN_FILE')).toBe(`${mount.mountPath}/${path}`);
  });

  it('mounts the projected ServiceAccount token (audience token-broker) into the agent only', () => {
    const tokenVolumes = (spec.volumes ?? []).filter((v) =>
      v.projected?.sources.some((s) => s.serviceAccountToken?.audience === 'token-broker'),
    );
    expect(tokenVolumes).toHaveLength(1);
    const mountedBy = allContainers(spec).filter((c) =>
      c.volumeMounts?.some((m) => m.name === tokenVolumes[0].name),
    );
    expect(mountedBy.map((c) => c.name)).toEqual([agent!.name]);
  });

  it('probes it with exec on loopback: startup and readiness on /health/ready, liveness on /health/live', () => {
    expect(probes().map(probePath)).toEqual(['/health/ready', '/health/ready', '/health/live']);
    for (const probe of probes()) {
      expect(probe.httpGet).toBeUndefined();
      expect(probe.exec?.command.join(' ')).toContain('/dev/tcp/127.0.0.1/7070');
      expect(probe.timeoutSeconds).toBeGreaterThan(1);
    }
  });

  it('has probe commands that pass on 200 and fail on 503 or when nothing listens', async () => {
    const run = promisify(execFile);
    const server = createServer((request, response) => {
      response.statusCode = request.url === '/health/live' ? 200 : 503;
      response.end('{}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    const exitCode = async (command: string[], target: number) => {
      const [file, ...args] = command.map((part) => part.replace('/127.0.0.1/7070', `/127.0.0.1/${target}`));
      return run(file, args, { timeout: 5_000 }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    };
    try {
      const [startup, readiness, liveness] = probes().map((p) => p.exec!.command);
      expect(await exitCode(liveness, port)).toBe(0);
      expect(await exitCode(readiness, port)).not.toBe(0);
      expect(await exitCode(startup, port)).not.toBe(0);
    } finally {
      await new Promise((done) => server.close(done));
    }
    expect(await exitCode(probes()[2].exec!.command, port)).not.toBe(0);
  });
});

describe('the injector overlay', () => {
  const objects = render('injector');
  const deployment = find(objects, 'Deployment', 'token-broker-injector');
  const spec = podSpec(deployment)!;
  const [injector] = spec.containers;
  const service = find(objects, 'Service', 'token-broker-injector');
  const pdb = find(objects, 'PodDisruptionBudget', 'token-broker-injector');
  const [webhook] = find(objects, 'MutatingWebhookConfiguration', 'token-broker-injector').webhooks;
  const configuration = find(objects, 'MutatingWebhookConfiguration', 'token-broker-injector');
  const certificate = find(objects, 'Certificate', 'token-broker-injector');
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const tlsVolume = spec.volumes!.find((v) => (v as { secret?: object }).secret) as Volume & {
    secret: { secretName: string };
  };

  it('runs two replicas of the injector, started as `npm run start:injector` does, with a PDB keeping one', () => {
    expect(isInjector(injector)).toBe(true);
    expect(injector.command!.join(' ')).toBe(scripts['start:injector'].trim());
    expect(scripts.build).toContain('nest build injector');
    expect(deployment.spec.replicas).toBe(2);
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('gives it settings it accepts: its own image for the agent, the central Service, TLS files from the mounted Secret', () => {
    const env = containerEnv(injector, objects);
    const mount = injector.volumeMounts!.find((m) => m.name === tlsVolume.name)!;
    for (const name of ['INJECTOR_TLS_CERT_FILE', 'INJECTOR_TLS_KEY_FILE']) {
      expect(env[name].startsWith(`${mount.mountPath}/`)).toBe(true);
    }
    expect(
      env.INJECTOR_TLS_CERT_FILE.endsWith('/tls.crt') && env.INJECTOR_TLS_KEY_FILE.endsWith('/tls.key'),
    ).toBe(true);
    // The files exist only in the pod: checked above; the rest as the injector reads it.
    const dir = mkdtempSync(join(tmpdir(), 'injector-manifest-'));
    try {
      writeFileSync(join(dir, 'tls.crt'), 'x');
      writeFileSync(join(dir, 'tls.key'), 'x');
      const parsed = parseInjectorEnvironment({
        ...env,
        INJECTOR_TLS_CERT_FILE: join(dir, 'tls.crt'),
        INJECTOR_TLS_KEY_FILE: join(dir, 'tls.key'),
      });
      expect(parsed.agentImage).toBe(injector.image);
      expect(parsed.brokerUrl).toBe(
        envValue(
          find(render('sidecar-example'), 'Deployment', 'billing').spec.template.spec.initContainers[0],
          'AGENT_BROKER_URL',
        ),
      );
      expect(injector.ports!.map((p) => p.containerPort)).toEqual([parsed.port]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('probes it over HTTPS on its port: startup and readiness on /health/ready, liveness on /health/live', () => {
    const probes = [injector.startupProbe!, injector.readinessProbe!, injector.livenessProbe!];
    expect(probes.map(probePath)).toEqual(['/health/ready', '/health/ready', '/health/live']);
    for (const probe of probes) {
      expect(probe.httpGet).toEqual({ path: expect.any(String), port: 'https', scheme: 'HTTPS' });
    }
    expect(injector.ports!.map((p) => p.name)).toEqual(['https']);
  });

  it('is called by the API server through its Service, with the certificate cert-manager issues for that name', () => {
    const matches = (selector: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => deployment.spec.template.metadata.labels[k] === v);
    expect(matches(service.spec.selector)).toBe(true);
    expect(service.spec.ports).toEqual([{ name: 'https', port: 443, targetPort: 'https' }]);
    expect(webhook.clientConfig.service).toEqual({
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      path: '/mutate',
      port: 443,
    });
    expect(
      (configuration.metadata as { annotations: Record<string, string> }).annotations[
        'cert-manager.io/inject-ca-from'
      ],
    ).toBe(`${certificate.metadata.namespace}/${certificate.metadata.name}`);
    expect(certificate.spec.dnsNames).toContain(`${service.metadata.name}.${service.metadata.namespace}.svc`);
    expect(certificate.spec.secretName).toBe(tlsVolume.secret.secretName);
    // The injector's own pods are never sent to it (it could not come back otherwise).
    const excluded = webhook.objectSelector.matchExpressions.find(
      (e: { key: string }) => e.key === 'app.kubernetes.io/name',
    );
    expect(excluded).toEqual({
      key: 'app.kubernetes.io/name',
      operator: 'NotIn',
      values: [deployment.spec.template.metadata.labels['app.kubernetes.io/name']],
    });
  });

  it('chooses its failure policy, reinvocation, a short timeout and no side effects, and says why', () => {
    expect(webhook).toEqual(
      expect.objectContaining({
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
      }),
    );
    expect(webhook.timeoutSeconds).toBeLessThanOrEqual(5);
    const text = readFileSync(join(K8S, 'overlays/injector/webhook.yaml'), 'utf8');
    expect(text).toMatch(/# Fail, not Ignore\./);
    expect(text).toMatch(/# Never: /);
  });

  it('ships a plain-Secret alternative to cert-manager, for the same Secret name', () => {
    const secret = parse(readFileSync(join(K8S, 'overlays/injector/tls-secret.example.yaml'), 'utf8'));
    expect(() => new Secret(secret).validate()).not.toThrow();
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata.name).toBe(tlsVolume.secret.secretName);
    expect(Object.keys(secret.data).sort()).toEqual(['tls.crt', 'tls.key']);
  });

  it("injects the sidecar example's agent: same command, resources, probes, restart policy and lock-down", () => {
    const example = find(render('sidecar-example'), 'Deployment', 'billing').spec.template.spec;
    const exampleAgent = example.initContainers.find(isAgent) as Container;
    const injected = agentContainer({
      image: exampleAgent.image,
      brokerUrl: envValue(exampleAgent, 'AGENT_BROKER_URL')!,
      audience: 'token-broker',
      port: 7070,
      memoryLimit: '96Mi',
      requireHeader: null,
    }) as unknown as Container;
    for (const field of [
      'command',
      'restartPolicy',
      'resources',
      'startupProbe',
      'readinessProbe',
      'livenessProbe',
    ] as const) {
      expect({ field, value: injected[field] }).toEqual({ field, value: exampleAgent[field] });
    }
    expect(injected.securityContext).toEqual(expect.objectContaining(exampleAgent.securityContext));
    expect(injected.securityContext).toEqual(expect.objectContaining(example.securityContext));
    expect(envValue(injected, 'AGENT_TOKEN_FILE')).toBe(envValue(exampleAgent, 'AGENT_TOKEN_FILE'));
  });

  it("labels injected pods as the central api's NetworkPolicy admits agents", () => {
    const policy = find(render('central'), 'NetworkPolicy', 'token-broker-api');
    expect(policy.spec.ingress[0].from[0].podSelector.matchLabels).toEqual({ [AGENT_POD_LABEL]: 'true' });
  });
});

describe('the migrate-job overlay', () => {
  it('runs migrate.js once, with retries, a deadline and clean-up after it finishes', () => {
    const job = find(render('migrate-job'), 'Job', 'token-broker-migrate');
    expect(job.spec).toEqual(
      expect.objectContaining({
        backoffLimit: expect.any(Number),
        activeDeadlineSeconds: expect.any(Number),
        ttlSecondsAfterFinished: expect.any(Number),
      }),
    );
    expect(podSpec(job)!.restartPolicy).toBe('Never');
    expect(podSpec(job)!.containers.map((c) => c.command)).toEqual([
      ['node', 'dist/apps/broker/src/database/migrate.js'],
    ]);
  });
});

describe('deploy/k8s/base', () => {
  const objects = renderKustomization(resolve(K8S, 'base'));

  it('ships placeholder secrets only, which a broker refuses to start with', () => {
    const secret = find(objects, 'Secret', 'token-broker').stringData as Record<string, string>;
    expect(Object.keys(secret).sort()).toEqual(Object.keys(REAL_SECRETS).sort());
    for (const value of Object.values(secret).filter((v) => !v.startsWith('redis:'))) {
      expect(value).toMatch(/REPLACE|CHANGE-ME/);
    }
    // Each placeholder alone stops the broker: a forgotten one cannot go live.
    const env = { ...find(objects, 'ConfigMap', 'token-broker').data, ...REAL_SECRETS };
    expect(() => validateEnvironment(env)).not.toThrow();
    expect(() =>
      validateEnvironment({ ...env, BROKER_ENCRYPTION_KEYS: secret.BROKER_ENCRYPTION_KEYS }),
    ).toThrow(/base64|32 bytes|BROKER_ENCRYPTION_KEYS/i);
    expect(() => validateEnvironment({ ...env, BROKER_ADMIN_TOKEN: secret.BROKER_ADMIN_TOKEN })).toThrow(
      /BROKER_ADMIN_TOKEN/,
    );
  });

  it('is rendered by a renderer that refuses kustomize features it does not implement', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kustomize-'));
    try {
      writeFileSync(join(dir, 'kustomization.yaml'), 'kind: Kustomization\npatches: []\n');
      expect(() => renderKustomization(dir)).toThrow(/unsupported kustomize fields patches/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const instructions = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const stages: string[][] = [];
  for (const line of instructions) {
    if (/^FROM /i.test(line)) stages.push([]);
    stages.at(-1)?.push(line);
  }
  const runtime = stages.at(-1) ?? [];

  it('builds in stages: deps with npm ci, a build, a runtime with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(stages[0].some((l) => /^RUN \(?npm ci\b(?!.*--omit=dev)/.test(l))).toBe(true);
    expect(stages.slice(0, -1).some((stage) => stage.some((l) => /^RUN npm run build\b/.test(l)))).toBe(true);
    expect(runtime.some((l) => /^RUN \(?npm ci --omit=dev\b/.test(l))).toBe(true);
    // The fallback (see the Dockerfile) must not bring dev dependencies back.
    for (const line of runtime.filter((l) => /\bnpm (ci|install)\b/.test(l))) {
      for (const command of line.split(/&&|\|\|/).filter((c) => /\bnpm (ci|install)\b/.test(c))) {
        expect(command).toContain('--omit=dev');
      }
    }
    expect(runtime.some((l) => /^COPY --from=\S+ \/app\/dist \.\/dist$/.test(l))).toBe(true);
    expect(runtime.some((l) => /^COPY (apps|libs|\.)\b/.test(l))).toBe(false);
  });

  it('runs node in exec form, its heap bounded, as a numeric non-root user, in production mode, on port 3000', () => {
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:\d+)?$/);
    expect(user).toMatch(/^USER 10001\b/);
    expect(runtime).toContain('ENV NODE_ENV=production');
    expect(runtime).toContain('EXPOSE 3000');
    expect(runtime.filter((l) => l.startsWith('CMD '))).toEqual([
      'CMD ["node", "--max-old-space-size=192", "dist/apps/broker/src/main.js"]',
    ]);
    expect(runtime.some((l) => /^ENTRYPOINT /.test(l))).toBe(false);
    // Node 24 LTS; the sidecar's exec probes need bash: a Debian base, not Alpine.
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    expect(text.match(/^FROM \$\{NODE_IMAGE\} AS /gm)).toHaveLength(2); // deps and runtime
    // A lock npm ci refuses must fail the build, not be papered over by npm install.
    expect(text).not.toMatch(/npm install|\|\|/);
    expect(text).not.toMatch(/^\s*(ENV|ARG)\s+\S*(TOKEN|KEYS?|SECRET|PASSWORD)\S*[ =]/im);
  });

  it('keeps .env, .git, node_modules and dist out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '.git', 'node_modules', 'dist']) expect(ignored).toContain(entry);
  });
});

describe('docker-compose.yml', () => {
  const file = join(ROOT, 'docker-compose.yml');
  const compose = parse(readFileSync(file, 'utf8'));
  const { postgres, redis, keys, sandbox, broker } = compose.services;
  const firstLook = compose.services['first-look'];
  const imageCmd = /^CMD \[(.*)\]$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))![1];
  const imageCommand = JSON.parse(`[${imageCmd}]`) as string[];

  it('runs postgres 16 and redis 7 with health checks, published on loopback only, the rest from this image', () => {
    expect(postgres.image).toBe('postgres:16');
    expect(postgres.healthcheck.test).toContain('pg_isready');
    expect(redis.image).toBe('redis:7');
    expect(redis.healthcheck.test).toEqual(['CMD', 'redis-cli', 'ping']);
    // A free loopback port by default (a local Postgres on 5432 does not stop `up`);
    // scripts/services.sh asks for 127.0.0.1:5432 and 127.0.0.1:6379.
    expect(postgres.ports).toEqual(['${POSTGRES_PUBLISH:-127.0.0.1::5432}']);
    expect(redis.ports).toEqual(['${REDIS_PUBLISH:-127.0.0.1::6379}']);
    for (const service of [keys, sandbox, broker, firstLook]) expect(service.build).toBe('.');
    expect(sandbox.command).toEqual(['node', 'dist/apps/sandbox/src/main.js']);
    expect(sandbox.environment).toEqual(
      expect.objectContaining({ SANDBOX_HOST: '0.0.0.0', SANDBOX_PORT: '4000' }),
    );
    // The sandbox shares the broker's network namespace: the broker reaches it on loopback, and
    // its port is published by the broker's service.
    expect(sandbox.network_mode).toBe('service:broker');
    expect(sandbox.ports).toBeUndefined();
    expect(broker.ports).toEqual(['3000:3000', '4000:4000']);
  });

  it('starts the broker once its keys are written and both are healthy, with a ready check', () => {
    expect(broker.depends_on).toEqual({
      keys: { condition: 'service_completed_successfully' },
      postgres: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    });
    expect(broker.environment.BROKER_ENCRYPTION_KEYS).toBeUndefined();
    expect(broker.environment.BROKER_ADMIN_TOKEN).toBeUndefined();
    expect(broker.volumes).toEqual(['state:/state:ro']);
    // The image's command (node as PID 1, its heap bound) after the keys are read.
    expect(broker.command.slice(0, 2)).toEqual(['sh', '-c']);
    expect(broker.command[2]).toBe(
      `set -a && . /state/broker.env && set +a && exec ${imageCommand.join(' ')}`,
    );
    expect(broker.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(broker.environment.REDIS_URL).toBe('redis://redis:6379');
    expect(broker.environment.BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS).toBe('true');
    expect(broker.environment.BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS).toBe('false');
    expect(broker.healthcheck.test.join(' ')).toMatch(
      /node -e fetch\('http:\/\/127\.0\.0\.1:3000\/health\/ready'\)/,
    );
  });

  it('writes keys the broker accepts once, readable by the image user only, and keeps them on the next up', () => {
    expect(keys.volumes).toEqual(['state:/state']);
    const dir = mkdtempSync(join(tmpdir(), 'compose-keys-'));
    try {
      const script = String(keys.command[2]).replaceAll('"/state', JSON.stringify(dir).slice(0, -1));
      const run = () =>
        execFileSync(process.execPath, ['-e', script.replace(/fs\.chownSync\([^)]*\);/g, '')]);
      run();
      const written = readFileSync(join(dir, 'broker.env'), 'utf8');
      const env = Object.fromEntries(
        written
          .trim()
          .split('\n')
          .map((line) => line.split(/=(.*)/s).slice(0, 2)),
      );
      expect(Object.keys(env).sort()).toEqual(['BROKER_ADMIN_TOKEN', 'BROKER_ENCRYPTION_KEYS']);
      expect(() => validateEnvironment(env)).not.toThrow();
      run();
      expect(readFileSync(join(dir, 'broker.env'), 'utf8')).toBe(written);
      expect(keys.command[2]).toContain('fs.chownSync(file, 10001, 10001)');
      expect(keys.command[2]).toContain('mode: 0o600');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the first look once the broker and the sandbox are healthy, beside them, with the seed script', () => {
    expect(firstLook.network_mode).toBe('service:broker');
    expect(firstLook.depends_on).toEqual({
      broker: { condition: 'service_healthy' },
      sandbox: { condition: 'service_healthy' },
    });
    expect(firstLook.volumes).toContain('./scripts/first-look-seed.js:/app/first-look-seed.js:ro');
    expect(firstLook.command[2]).toMatch(
      /exec node \/app\/first-look-seed\.js http:\/\/127\.0\.0\.1:3000 http:\/\/127\.0\.0\.1:4000 \/state$/,
    );
  });

  it('passes `docker-compose config` with no variables set (where docker-compose is installed)', async () => {
    if (!hasCommand('docker-compose')) {
      console.warn('docker-compose not installed: `docker-compose config` not run');
      return;
    }
    // An empty --env-file: nothing from a developer's .env.
    const dir = mkdtempSync(join(tmpdir(), 'compose-'));
    const emptyEnvFile = join(dir, 'empty.env');
    writeFileSync(emptyEnvFile, '');
    try {
      await promisify(execFile)('docker-compose', ['--env-file', emptyEnvFile, '-f', file, 'config', '-q']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
