import { applyJsonPatch } from '../../../test/support/json-patch';
import { AGENT_COMMAND, Container } from './agent-sidecar';
import { answerReview, BadReviewError, mutatePod, Pod, pointer } from './mutate';

const settings = {
  agentImage: 'ghcr.io/example/token-broker:0.1.0',
  brokerUrl: 'http://token-broker.token-broker.svc:3000',
  tokenAudience: 'token-broker',
};

const pod = (annotations: Record<string, string> | undefined, spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { generateName: 'billing-', ...(annotations ? { annotations } : {}) },
  spec: { containers: [{ name: 'app', image: 'ghcr.io/example/billing:1.0.0' }], ...spec },
});
const inject = { 'token-broker.io/inject': 'true' };
const patched = (input: Pod) => applyJsonPatch(input, mutatePod(input, settings).patch);
const agentOf = (result: Pod) => result.spec!.initContainers!.find((c) => c.name === 'token-agent')!;
const env = (container: Container, name: string) => container.env?.find((e) => e.name === name)?.value;

describe('pointer (RFC 6901)', () => {
  it('escapes "~" as ~0 and "/" as ~1 in each segment', () => {
    expect(pointer('metadata', 'labels', 'token-broker/agent')).toBe('/metadata/labels/token-broker~1agent');
    expect(pointer('a~b/c', 0, '-')).toBe('/a~0b~1c/0/-');
  });
});

describe('mutatePod', () => {
  it('leaves a pod that does not ask, or says "false", as it is, without a word', () => {
    for (const annotations of [undefined, {}, { 'token-broker.io/inject': 'false' }] as (
      Record<string, string> | undefined
    )[]) {
      expect(mutatePod(pod(annotations), settings)).toEqual({
        patch: [],
        warnings: [],
        skipped: 'not requested',
      });
    }
  });

  it('adds the agent as a native sidecar, its volumes, the URL and the NetworkPolicy label, creating the arrays', () => {
    const result = patched(pod(inject));
    const agent = agentOf(result);
    expect(result.spec!.initContainers).toHaveLength(1);
    expect(agent.restartPolicy).toBe('Always');
    expect(agent.image).toBe(settings.agentImage);
    expect(agent.command).toEqual(AGENT_COMMAND);
    expect(env(agent, 'AGENT_BROKER_URL')).toBe(settings.brokerUrl);
    expect(env(agent, 'AGENT_TOKEN_FILE')).toBe('/var/run/secrets/tokens/broker-token');
    expect(env(agent, 'AGENT_REQUIRE_HEADER')).toBeUndefined();
    expect(agent.volumeMounts).toContainEqual({
      name: 'token-broker-token',
      mountPath: '/var/run/secrets/tokens',
      readOnly: true,
    });
    expect(result.spec!.volumes).toContainEqual({
      name: 'token-broker-token',
      projected: {
        sources: [
          {
            serviceAccountToken: { path: 'broker-token', audience: 'token-broker', expirationSeconds: 3600 },
          },
        ],
      },
    });
    expect(result.spec!.containers![0].env).toEqual([
      { name: 'TOKEN_BROKER_URL', value: 'http://127.0.0.1:7070' },
    ]);
    expect(result.metadata!.labels).toEqual({ 'token-broker/agent': 'true' });
  });

  it('appends to arrays that exist, puts the agent first among init containers, and escapes the label key', () => {
    const input = pod(inject, {
      initContainers: [{ name: 'migrate', image: 'm:1' }],
      containers: [
        { name: 'app', image: 'a:1', env: [{ name: 'A', value: '1' }] },
        { name: 'worker', image: 'w:1' },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    });
    input.metadata!.labels = { app: 'billing' };
    const { patch } = mutatePod(input, settings);
    expect(patch.map((p) => p.path)).toEqual([
      '/spec/initContainers/0',
      '/spec/volumes/-',
      '/spec/volumes/-',
      '/spec/containers/0/env/-',
      '/spec/containers/1/env',
      '/metadata/labels/token-broker~1agent',
    ]);
    const result = applyJsonPatch(input, patch);
    expect(result.spec!.initContainers!.map((c) => c.name)).toEqual(['token-agent', 'migrate']);
    expect(result.spec!.volumes!.map((v) => v.name)).toEqual([
      'data',
      'token-agent-tmp',
      'token-broker-token',
    ]);
    expect(result.spec!.containers!.map((c) => env(c, 'TOKEN_BROKER_URL'))).toEqual([
      'http://127.0.0.1:7070',
      'http://127.0.0.1:7070',
    ]);
    expect(result.metadata!.labels).toEqual({ app: 'billing', 'token-broker/agent': 'true' });
  });

  it('keeps a TOKEN_BROKER_URL a container sets itself', () => {
    const own = { name: 'TOKEN_BROKER_URL', value: 'http://127.0.0.1:9999' };
    const result = patched(pod(inject, { containers: [{ name: 'app', image: 'a:1', env: [own] }] }));
    expect(result.spec!.containers![0].env).toEqual([own]);
  });

  it('does not patch a pod that already has the agent, by name or by entry point', () => {
    const byName = pod(inject, { initContainers: [{ name: 'token-agent', image: 'x:1' }] });
    const byCommand = pod(inject, {
      initContainers: [{ name: 'sidecar', image: 'x:1', command: AGENT_COMMAND }],
    });
    for (const input of [byName, byCommand]) {
      expect(mutatePod(input, settings)).toEqual({
        patch: [],
        warnings: [],
        skipped: 'agent already present',
      });
    }
    // Applying the injector's own patch and asking again: no second agent.
    expect(mutatePod(patched(pod(inject)), settings).patch).toEqual([]);
  });

  it('applies the optional annotations: port, memory limit, required header', () => {
    const result = patched(
      pod({
        ...inject,
        'token-broker.io/agent-port': '7171',
        'token-broker.io/agent-memory': '128Mi',
        'token-broker.io/require-header': 'Metadata-Flavor: token-agent',
      }),
    );
    const agent = agentOf(result);
    expect(env(agent, 'AGENT_PORT')).toBe('7171');
    expect(env(agent, 'AGENT_REQUIRE_HEADER')).toBe('Metadata-Flavor: token-agent');
    expect(agent.resources).toEqual({
      requests: { cpu: '20m', memory: '64Mi' },
      limits: { memory: '128Mi' },
    });
    for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
      expect((agent[probe] as { exec: { command: string[] } }).exec.command[2]).toContain(
        '/dev/tcp/127.0.0.1/7171 ',
      );
    }
    expect(env(result.spec!.containers![0], 'TOKEN_BROKER_URL')).toBe('http://127.0.0.1:7171');
  });

  it.each([
    ['token-broker.io/inject', 'yes', /must be "true" or "false"/],
    ['token-broker.io/agent-port', '80', /agent-port must be an integer from 1024 to 65535/],
    ['token-broker.io/agent-port', '7070x', /agent-port/],
    ['token-broker.io/agent-memory', '32Mi', /agent-memory must be a memory limit from 64Mi to 1Gi/],
    ['token-broker.io/agent-memory', '1.5Gi', /agent-memory/],
    ['token-broker.io/agent-memory', '2Gi', /agent-memory/],
    ['token-broker.io/require-header', 'no colon here', /require-header must be "Name: value"/],
    ['token-broker.io/agent-memroy', '256Mi', /token-broker.io\/agent-memroy is not a known annotation/],
  ])('admits a pod whose %s is "%s" unchanged, saying why in a warning', (name, value, message) => {
    const result = mutatePod(pod({ ...inject, [name]: value }), settings);
    expect(result.patch).toEqual([]);
    expect(result.warnings).toEqual([expect.stringMatching(message)]);
    expect(result.warnings[0]).toContain('the token agent was not added');
  });

  it('does not put the agent on the host network, where the node shares its loopback', () => {
    const result = mutatePod(pod(inject, { hostNetwork: true }), settings);
    expect(result.patch).toEqual([]);
    expect(result.warnings).toEqual([expect.stringContaining('host network')]);
  });

  it('warns instead of injecting when the agent port or a volume name is already taken', () => {
    const portTaken = pod(inject, {
      containers: [{ name: 'app', image: 'a:1', ports: [{ containerPort: 7070 }] }],
    });
    expect(mutatePod(portTaken, settings).warnings).toEqual([
      expect.stringContaining('container "app" declares port 7070'),
    ]);
    const volumeTaken = pod(inject, { volumes: [{ name: 'token-broker-token', emptyDir: {} }] });
    expect(mutatePod(volumeTaken, settings).warnings).toEqual([
      expect.stringContaining('volume named "token-broker-token"'),
    ]);
  });
});

describe('answerReview', () => {
  const review = (request: object) => ({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request,
  });
  const podRequest = (object: unknown, operation = 'CREATE') =>
    review({ uid: 'c5ef3c4d', kind: { group: '', version: 'v1', kind: 'Pod' }, operation, object });

  it('answers allowed with the uid and a base64 JSONPatch', () => {
    const { review: answer } = answerReview(podRequest(pod(inject)), settings);
    expect(answer).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { uid: 'c5ef3c4d', allowed: true, patchType: 'JSONPatch', patch: expect.any(String) },
    });
    const patch = JSON.parse(Buffer.from(answer.response!.patch!, 'base64').toString('utf8'));
    expect(patch).toEqual(mutatePod(pod(inject), settings).patch);
  });

  it('allows without a patch: no annotation, an update, another kind; with warnings for a bad value', () => {
    const plain = (body: unknown) => answerReview(body, settings).review.response;
    expect(plain(podRequest(pod(undefined)))).toEqual({ uid: 'c5ef3c4d', allowed: true });
    expect(plain(podRequest(pod(inject), 'UPDATE'))).toEqual({ uid: 'c5ef3c4d', allowed: true });
    expect(
      plain(
        review({
          uid: 'u',
          kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
          operation: 'CREATE',
          object: {},
        }),
      ),
    ).toEqual({ uid: 'u', allowed: true });
    expect(plain(podRequest(pod({ 'token-broker.io/inject': 'yes' })))).toEqual({
      uid: 'c5ef3c4d',
      allowed: true,
      warnings: [expect.stringContaining('token-broker.io/inject')],
    });
  });

  it('allows a pod it cannot read, with a warning, rather than refusing it', () => {
    const answer = answerReview(
      podRequest({ metadata: { annotations: inject }, spec: { containers: 5 } }),
      settings,
    );
    expect(answer.review.response).toEqual({
      uid: 'c5ef3c4d',
      allowed: true,
      warnings: ['the token agent was not added: the pod could not be read'],
    });
  });

  it('refuses a body that is not an admission.k8s.io/v1 AdmissionReview with a request uid', () => {
    for (const body of [
      null,
      42,
      {},
      { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' },
      review({}),
    ]) {
      expect(() => answerReview(body, settings)).toThrow(BadReviewError);
    }
  });
});
