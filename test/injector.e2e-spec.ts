/**
 * The built agent injector as the API server meets it: over TLS with a certificate for the webhook
 * Service's name, verified against the CA the webhook configuration trusts, an AdmissionReview
 * POSTed to /mutate. Each fixture's patch is applied to its pod the way the API server applies
 * it (test/support/json-patch.ts), the result validated against the Kubernetes schemas and
 * typings (kubernetes-models) and compared with its golden file (UPDATE_GOLDEN=1 rewrites them).
 * Certificates come from openssl where installed, else from node:crypto; no Redis, no Postgres.
 */
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pod } from 'kubernetes-models/v1';
import { renderKustomization } from './deploy/kustomize';
import { typeCheckObjects } from './deploy/typecheck';
import { freePort } from './support/broker-process';
import { applyJsonPatch, Operation } from './support/json-patch';
import {
  callWebhook,
  CERTIFICATE_TOOL,
  INJECTOR_MAIN,
  INJECTOR_NODE_FLAGS,
  InjectorProcess,
  issueCertificate,
  renewCertificate,
  runInjectorToExit,
  startInjector,
} from './support/injector-process';

const FIXTURES = resolve(process.cwd(), 'test/fixtures/injector');
const CASES = ['deployment-pod', 'job-pod', 'agent-present', 'own-url', 'bad-annotation'] as const;
const SETTINGS = {
  INJECTOR_AGENT_IMAGE: 'ghcr.io/example/token-broker:0.1.0',
  INJECTOR_BROKER_URL: 'http://token-broker.token-broker.svc:3000',
};
type Review = { request: { uid: string; object: any } };
const fixture = (name: string): Review =>
  JSON.parse(readFileSync(join(FIXTURES, `${name}.review.json`), 'utf8'));
const decodePatch = (patch: string | undefined): Operation[] =>
  patch ? JSON.parse(Buffer.from(patch, 'base64').toString('utf8')) : [];

describe('agent injector over TLS, called as the API server calls a webhook', () => {
  let dir: string;
  let certs: ReturnType<typeof issueCertificate>;
  let injector: InjectorProcess;
  const answers = new Map<string, { warnings?: string[]; patch: Operation[]; pod: any }>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'injector-tls-'));
    certs = issueCertificate(dir);
    injector = await startInjector({
      ...SETTINGS,
      INJECTOR_TLS_CERT_FILE: certs.cert,
      INJECTOR_TLS_KEY_FILE: certs.key,
    });
  });

  afterAll(async () => {
    expect(await injector?.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)(
    '%s: allowed with its uid; the patched pod passes the schemas and equals its golden file',
    async (name) => {
      const review = fixture(name);
      const { status, body } = await callWebhook(injector.port, readFileSync(certs.ca), review);
      expect(status).toBe(200);
      expect(body.apiVersion).toBe('admission.k8s.io/v1');
      expect(body.kind).toBe('AdmissionReview');
      const { uid, allowed, patchType, patch, warnings, ...rest } = body.response;
      expect({ uid, allowed, rest }).toEqual({ uid: review.request.uid, allowed: true, rest: {} });
      expect(patchType).toBe(patch ? 'JSONPatch' : undefined);

      const operations = decodePatch(patch);
      const pod = applyJsonPatch(review.request.object, operations);
      expect(() => new Pod(pod).validate()).not.toThrow();
      expect(
        typeCheckObjects(
          [{ ...pod, metadata: { ...pod.metadata, name: name } }],
          join(process.cwd(), 'test/injector.e2e-spec.ts'),
        ),
      ).toEqual([]);

      const result = { warnings, patch: operations, pod };
      answers.set(name, result);
      const golden = join(FIXTURES, `${name}.golden.json`);
      if (process.env.UPDATE_GOLDEN === '1') {
        writeFileSync(golden, `${JSON.stringify(result, null, 2)}\n`);
      }
      expect(JSON.parse(JSON.stringify(result))).toEqual(JSON.parse(readFileSync(golden, 'utf8')));
    },
  );

  it('says what each fixture shows', () => {
    const agent = (pod: any) => pod.spec.initContainers.filter((c: any) => c.name === 'token-agent');
    const url = (container: any) => container.env?.find((e: any) => e.name === 'TOKEN_BROKER_URL')?.value;

    // A Deployment's pod: one native sidecar, the URL in the app, the NetworkPolicy's label.
    const deployment = answers.get('deployment-pod')!;
    expect(agent(deployment.pod)).toEqual([
      expect.objectContaining({ restartPolicy: 'Always', image: SETTINGS.INJECTOR_AGENT_IMAGE }),
    ]);
    expect(url(deployment.pod.spec.containers[0])).toBe('http://127.0.0.1:7070');
    expect(deployment.pod.metadata.labels['token-broker/agent']).toBe('true');
    expect(deployment.patch.map((op) => op.path)).toContain('/metadata/labels/token-broker~1agent');

    // A Job's pod: the agent first among its init containers (a native sidecar does not keep a
    // Job's pod running), both app containers pointed at it, the memory and header annotations.
    const job = answers.get('job-pod')!;
    expect(job.pod.spec.initContainers.map((c: any) => c.name)).toEqual(['token-agent', 'wait-for-db']);
    expect(job.pod.spec.restartPolicy).toBe('Never');
    expect(job.pod.spec.containers.map(url)).toEqual(['http://127.0.0.1:7070', 'http://127.0.0.1:7070']);
    expect(agent(job.pod)[0].resources.limits.memory).toBe('128Mi');

    // Already has the agent: no patch at all, no warning.
    expect(answers.get('agent-present')).toEqual(expect.objectContaining({ patch: [], warnings: undefined }));

    // Its own TOKEN_BROKER_URL kept; the other container given the annotated port.
    const own = answers.get('own-url')!;
    expect(own.pod.spec.containers.map(url)).toEqual(['http://127.0.0.1:7171/v2', 'http://127.0.0.1:7171']);

    // A bad annotation: admitted unchanged, with the reason in warnings.
    expect(answers.get('bad-annotation')).toEqual({
      warnings: [
        expect.stringContaining('token-broker.io/agent-port must be an integer from 1024 to 65535, got "80"'),
      ],
      patch: [],
      pod: fixture('bad-annotation').request.object,
    });
  });

  it('is refused by a client that does not trust its CA, or that expects another name', async () => {
    const other = issueCertificate(dir, 'other-');
    await expect(
      callWebhook(injector.port, readFileSync(other.ca), fixture('deployment-pod')),
    ).rejects.toThrow(/certificate|verify/i);
    await expect(
      callWebhook(injector.port, readFileSync(certs.ca), fixture('deployment-pod'), {
        servername: 'evil.example',
      }),
    ).rejects.toThrow(/altnames|Hostname/i);
  });

  it('answers health probes, 400 for a body that is not a review, 404 elsewhere, never a 500', async () => {
    const ca = readFileSync(certs.ca);
    for (const path of ['/health/live', '/health/ready']) {
      expect((await callWebhook(injector.port, ca, '', { method: 'GET', path })).status).toBe(200);
    }
    expect(await callWebhook(injector.port, ca, '{not json')).toEqual(
      expect.objectContaining({ status: 400, body: { message: 'the body is not JSON' } }),
    );
    expect((await callWebhook(injector.port, ca, { kind: 'Pod' })).status).toBe(400);
    expect((await callWebhook(injector.port, ca, {}, { path: '/validate' })).status).toBe(404);
    expect(injector.output()).not.toMatch(/"level":50/);
  });

  it('serves a renewed certificate once its files change, without a restart', async () => {
    const ca = readFileSync(certs.ca);
    const before = (await callWebhook(injector.port, ca, fixture('agent-present'))).fingerprint;
    // A renewal by the same CA, swapped in by rename as the kubelet swaps a Secret's files.
    const renewed = renewCertificate(dir, certs, 'renewed-');
    const expected = new X509Certificate(readFileSync(renewed.cert)).fingerprint256;
    expect(expected).not.toBe(before);
    renameSync(renewed.key, certs.key);
    renameSync(renewed.cert, certs.cert);
    const deadline = Date.now() + 30_000;
    let served = before;
    while (served !== expected && Date.now() < deadline) {
      await new Promise((done) => setTimeout(done, 250));
      served = (await callWebhook(injector.port, ca, fixture('agent-present'))).fingerprint;
    }
    expect(served).toBe(expected);
    expect(injector.output()).toContain('TLS certificate reloaded');
  });
});

describe('agent injector: certificates without openssl', () => {
  it(`serves a node:crypto-made certificate that the API server's check accepts (this run: ${CERTIFICATE_TOOL})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'injector-node-certs-'));
    const certs = issueCertificate(dir, '', 'node');
    const injector = await startInjector({
      ...SETTINGS,
      INJECTOR_TLS_CERT_FILE: certs.cert,
      INJECTOR_TLS_KEY_FILE: certs.key,
    });
    try {
      const answer = await callWebhook(injector.port, readFileSync(certs.ca), fixture('deployment-pod'));
      expect(answer.status).toBe(200);
      expect(answer.fingerprint).toBe(new X509Certificate(readFileSync(certs.cert)).fingerprint256);
      const other = issueCertificate(dir, 'other-', 'node');
      await expect(
        callWebhook(injector.port, readFileSync(other.ca), fixture('deployment-pod')),
      ).rejects.toThrow(/certificate|verify/i);
    } finally {
      expect(await injector.stop()).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('agent injector: start-up', () => {
  it('serves plain http on 127.0.0.1 only when both TLS files are unset', async () => {
    const injector = await startInjector(SETTINGS);
    try {
      expect(injector.output()).toContain('"url":"http://127.0.0.1:');
      const response = await fetch(`http://127.0.0.1:${injector.port}/mutate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(fixture('deployment-pod')),
      });
      expect(response.status).toBe(200);
      expect(((await response.json()) as { response: unknown }).response).toEqual(
        expect.objectContaining({ allowed: true, patchType: 'JSONPatch' }),
      );
    } finally {
      expect(await injector.stop()).toBe(0);
    }
  });

  it.each([
    [{ INJECTOR_BROKER_URL: '' }, 'INJECTOR_BROKER_URL is required'],
    [
      { INJECTOR_TLS_CERT_FILE: '/nonexistent/tls.crt' },
      'INJECTOR_TLS_KEY_FILE is required with INJECTOR_TLS_CERT_FILE',
    ],
    [{ PORT: 'https' }, 'PORT must be an integer'],
  ])('refuses %j at start with one line naming the variable', async (override, message) => {
    const { code, output } = await runInjectorToExit({ ...SETTINGS, ...override });
    expect(code).toBe(1);
    expect(output.trim().split('\n')).toEqual([expect.stringContaining(`Configuration error: ${message}`)]);
  });
});

describe('agent injector: footprint', () => {
  it("loads none of the broker's stacks (NestJS, Fastify, TypeORM, pg, BullMQ, ioredis, Swagger, the keyring)", async () => {
    const port = await freePort();
    // Start the built entry as `npm run start:injector` does, answer one review, list every module it required.
    const script = `
      require(${JSON.stringify(INJECTOR_MAIN)});
      const review = ${JSON.stringify(JSON.stringify(fixture('deployment-pod')))};
      const deadline = Date.now() + 10000;
      (async function poll() {
        try {
          const res = await fetch('http://127.0.0.1:${port}/mutate', { method: 'POST', body: review });
          if (res.status === 200) {
            process.stdout.write('MODULES ' + JSON.stringify(Object.keys(require.cache)) + '\\n');
            process.exit(0);
          }
        } catch {}
        if (Date.now() > deadline) process.exit(2);
        setTimeout(poll, 50);
      })();`;
    const { code, output } = await new Promise<{ code: number | null; output: string }>((done) => {
      const child = spawn(process.execPath, [...INJECTOR_NODE_FLAGS, '-e', script], {
        env: { PATH: process.env.PATH, ...SETTINGS, PORT: String(port), INJECTOR_LOG_LEVEL: 'warn' },
        cwd: process.cwd(),
      });
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.once('exit', (exitCode) => done({ code: exitCode, output: text }));
    });
    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    const modules: string[] = JSON.parse(/^MODULES (.*)$/m.exec(output)![1]);
    expect(modules.some((m) => m.endsWith('dist/apps/injector/src/mutate.js'))).toBe(true);
    const forbidden = [
      /node_modules\/@nestjs\//,
      /node_modules\/fastify\//,
      /node_modules\/typeorm\//,
      /node_modules\/pg(-pool|-protocol)?\//,
      /node_modules\/bullmq\//,
      /node_modules\/ioredis\//,
      /node_modules\/swagger-ui-dist\//,
      /libs\/crypto\//,
      /apps\/broker\//,
    ];
    expect(modules.filter((m) => forbidden.some((pattern) => pattern.test(m)))).toEqual([]);
  });
});

describe('the webhook configuration (deploy/k8s/overlays/injector)', () => {
  const webhook = renderKustomization(resolve(process.cwd(), 'deploy/k8s/overlays/injector')).find(
    (o) => o.kind === 'MutatingWebhookConfiguration',
  )!.webhooks[0];
  type Expression = { key: string; operator: string; values?: string[] };
  /** A label selector's matchExpressions, evaluated as the API server does. */
  const selects = (selector: { matchExpressions: Expression[] }, labels: Record<string, string>) =>
    selector.matchExpressions.every(({ key, operator, values = [] }) => {
      if (operator === 'In') return key in labels && values.includes(labels[key]);
      if (operator === 'NotIn') return !(key in labels) || !values.includes(labels[key]);
      if (operator === 'Exists') return key in labels;
      if (operator === 'DoesNotExist') return !(key in labels);
      throw new Error(`operator ${operator}`);
    });

  it('never sends a pod from a namespace that opted out (the review cannot say it), nor the injector own', () => {
    const namespace = (name: string, labels: Record<string, string> = {}) => ({
      'kubernetes.io/metadata.name': name,
      ...labels,
    });
    expect(selects(webhook.namespaceSelector, namespace('billing'))).toBe(true);
    expect(
      selects(webhook.namespaceSelector, namespace('billing', { 'token-broker.io/inject': 'enabled' })),
    ).toBe(true);
    expect(
      selects(webhook.namespaceSelector, namespace('billing', { 'token-broker.io/inject': 'disabled' })),
    ).toBe(false);
    expect(selects(webhook.namespaceSelector, namespace('kube-system'))).toBe(false);
    expect(selects(webhook.namespaceSelector, namespace('token-broker'))).toBe(false);
    expect(selects(webhook.objectSelector, { 'app.kubernetes.io/name': 'billing' })).toBe(true);
    expect(selects(webhook.objectSelector, { 'app.kubernetes.io/name': 'token-broker-injector' })).toBe(
      false,
    );
  });

  it('asks the API server to send only pods annotated for injection, on creation, to /mutate', () => {
    expect(webhook.matchConditions).toEqual([
      expect.objectContaining({
        expression: expect.stringContaining("object.metadata.annotations['token-broker.io/inject']"),
      }),
    ]);
    expect(webhook.rules).toEqual([
      {
        operations: ['CREATE'],
        apiGroups: [''],
        apiVersions: ['v1'],
        resources: ['pods'],
        scope: 'Namespaced',
      },
    ]);
    expect(webhook.clientConfig.service).toEqual(
      expect.objectContaining({ name: 'token-broker-injector', namespace: 'token-broker', path: '/mutate' }),
    );
    expect(webhook.admissionReviewVersions).toEqual(['v1']);
  });
});
