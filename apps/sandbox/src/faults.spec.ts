import { FAULT_MODES, NON_BEARER_TOKEN_TYPE, OVERFLOWING_EXPIRES_IN, type FaultMode } from './sandbox';
import {
  authorizeKind,
  refreshKind,
  refreshKindRequest,
  ROTATION_KIND_PROVIDERS,
  startTestSandbox,
  type RotationKind,
  type TestSandbox,
} from './testing';

let server: TestSandbox;
afterEach(() => server?.sandbox.close());

const KINDS = Object.keys(ROTATION_KIND_PROVIDERS) as RotationKind[];

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: unknown;
  scope?: unknown;
  token_type?: unknown;
}

async function connect(kind: RotationKind, account = `acct-${kind}`): Promise<Tokens> {
  const response = await authorizeKind(server, kind, account);
  expect(response.status).toBe(200);
  return response.json<Tokens>();
}

/** Refresh grants the provider of `kind` has processed. */
function processed(kind: RotationKind): number {
  const { provider } = ROTATION_KIND_PROVIDERS[kind];
  const stats = server.sandbox.stats();
  return provider === 'bloomerang' ? stats.refreshTokenUses : stats.profiles[provider].refreshGrants;
}

/** Whether the provider still takes this refresh token (for `none`, the same one comes back). */
async function stillWorks(kind: RotationKind, refreshToken: string): Promise<boolean> {
  return (await refreshKind(server, kind, refreshToken)).status === 200;
}

describe.each(KINDS)('processed faults at the %s provider', (kind) => {
  const { provider } = ROTATION_KIND_PROVIDERS[kind];

  beforeEach(async () => {
    server = await startTestSandbox({ autoApprove: true });
  });

  it.each([
    ['zeroExpiresIn', (body: Tokens) => expect(body.expires_in).toBe(0)],
    ['overflowingExpiresIn', (body: Tokens) => expect(body.expires_in).toBe(OVERFLOWING_EXPIRES_IN)],
    ['arrayScope', (body: Tokens) => expect(Array.isArray(body.scope)).toBe(true)],
    ['nonBearerTokenType', (body: Tokens) => expect(body.token_type).toBe(NON_BEARER_TOKEN_TYPE)],
    ['absurdLifetime', (body: Tokens) => expect(body.expires_in).toBe(1e15)],
  ] as const)(
    '%s: a 200 with the rotated refresh token and one field no client may take',
    async (fault, check) => {
      const first = await connect(kind);
      server.sandbox.configure({ faultRules: [{ fault, provider, count: 1 }] });
      const response = await refreshKind(server, kind, first.refresh_token);
      expect(response.status).toBe(200);
      const body = response.json<Tokens>();
      check(body);
      expect(processed(kind)).toBe(1);
      // The tokens are real: the refresh token it carries is the one to use next.
      expect(body.refresh_token).toEqual(expect.any(String));
      expect(await stillWorks(kind, body.refresh_token)).toBe(true);
      expect(server.sandbox.refreshTokenReuses()).toEqual([]);
    },
  );

  it('lostAnswer: processes the refresh, then resets the connection instead of answering', async () => {
    const first = await connect(kind);
    server.sandbox.configure({ faultRules: [{ fault: 'lostAnswer', provider, count: 1 }] });
    await expect(refreshKind(server, kind, first.refresh_token)).rejects.toThrow();
    expect(processed(kind)).toBe(1);
  });

  it('errorAfterProcessing: processes the refresh, then answers 500', async () => {
    const first = await connect(kind);
    server.sandbox.configure({ faultRules: [{ fault: 'errorAfterProcessing', provider, count: 1 }] });
    const response = await refreshKind(server, kind, first.refresh_token);
    expect(response.status).toBe(500);
    expect(response.json()).toMatchObject({ error: 'server_error' });
    expect(processed(kind)).toBe(1);
  });

  it('slowAnswer: processes the refresh at once and answers only after the client gave up', async () => {
    const first = await connect(kind);
    server.sandbox.configure({ faultRules: [{ fault: 'slowAnswer', provider, count: 1 }] });
    const { path, body, headers } = refreshKindRequest(kind, first.refresh_token);
    const tooImpatient = fetch(new URL(path, server.baseUrl), {
      method: 'POST',
      body,
      headers,
      signal: AbortSignal.timeout(300),
    });
    await expect(tooImpatient).rejects.toThrow();
    expect(processed(kind)).toBe(1);
  });

  it('slowAnswer: a patient client gets the tokens after slowAnswerMs', async () => {
    const first = await connect(kind);
    server.sandbox.configure({
      slowAnswerMs: 50,
      faultRules: [{ fault: 'slowAnswer', provider, count: 1 }],
    });
    const response = await refreshKind(server, kind, first.refresh_token);
    expect(response.status).toBe(200);
    expect(response.json<Tokens>().refresh_token).toEqual(expect.any(String));
  });

  it.each(['rateLimited', 'unavailable', 'html500'] as const)(
    '%s: consumes nothing, the refresh token still works',
    async (fault) => {
      const first = await connect(kind);
      server.sandbox.configure({ faultRules: [{ fault, provider, count: 1 }] });
      expect((await refreshKind(server, kind, first.refresh_token)).status).toBeGreaterThanOrEqual(429);
      expect(processed(kind)).toBe(0);
      expect(await stillWorks(kind, first.refresh_token)).toBe(true);
      expect(server.sandbox.refreshTokenReuses()).toEqual([]);
    },
  );
});

describe('refresh tokens presented twice', () => {
  beforeEach(async () => {
    server = await startTestSandbox({ autoApprove: true });
  });

  it('none: the same token every time is no reuse', async () => {
    const first = await connect('none');
    const second = (await refreshKind(server, 'none', first.refresh_token)).json<Tokens>();
    expect(second.refresh_token).toBe(first.refresh_token);
    expect((await refreshKind(server, 'none', first.refresh_token)).status).toBe(200);
    expect(server.sandbox.refreshTokenReuses()).toEqual([]);
  });

  it('rotating: a spent token is accepted again and counted, outside any grace window', async () => {
    const first = await connect('rotating', 'keep');
    await refreshKind(server, 'rotating', first.refresh_token);
    expect((await refreshKind(server, 'rotating', first.refresh_token)).status).toBe(200);
    expect(server.sandbox.refreshTokenReuses()).toEqual([
      { provider: 'docusign', account: 'keep', inGrace: false, refused: false, at: expect.any(Number) },
    ]);
  });

  it('single_use: a spent token is refused, counted, and revokes the chain', async () => {
    const first = await connect('single_use', 'once');
    const second = (await refreshKind(server, 'single_use', first.refresh_token)).json<Tokens>();
    expect(server.sandbox.refreshTokenState('bloomerang', first.refresh_token)).toBe('spent');
    expect(server.sandbox.refreshTokenState('bloomerang', second.refresh_token)).toBe('unspent');
    expect((await refreshKind(server, 'single_use', first.refresh_token)).status).toBe(400);
    expect(server.sandbox.refreshTokenState('bloomerang', second.refresh_token)).toBe('unknown');
    expect(server.sandbox.refreshTokenReuses({ account: 'once' })).toEqual([
      { provider: 'bloomerang', account: 'once', inGrace: false, refused: true, at: expect.any(Number) },
    ]);
    expect(await stillWorks('single_use', second.refresh_token)).toBe(false);
  });

  it('grace: counted as inside the window, then refused once the window is over', async () => {
    const first = await connect('grace', 'late');
    await refreshKind(server, 'grace', first.refresh_token);
    expect(server.sandbox.refreshTokenState('xero', first.refresh_token)).toBe('spent');
    expect((await refreshKind(server, 'grace', first.refresh_token)).status).toBe(200);
    server.sandbox.configure({ profiles: { xero: { graceSeconds: 0 } } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await refreshKind(server, 'grace', first.refresh_token)).status).toBe(400);
    expect(
      server.sandbox
        .refreshTokenReuses({ provider: 'xero' })
        .map(({ inGrace, refused }) => ({ inGrace, refused })),
    ).toEqual([
      { inGrace: true, refused: false },
      { inGrace: false, refused: true },
    ]);
    expect(server.sandbox.stats().profiles.xero).toMatchObject({
      refreshTokenReuses: 2,
      refreshTokenReusesInGrace: 1,
      refreshTokenReusesRefused: 1,
    });
    expect((await server.get('/_sandbox/reuses?provider=xero&account=late')).json()).toHaveLength(2);
  });
});

describe('fault rules', () => {
  beforeEach(async () => {
    server = await startTestSandbox({ autoApprove: true });
  });

  it('limit a fault to one account and a count, beside other rules', async () => {
    const mine = await connect('single_use', 'mine');
    const theirs = await connect('single_use', 'theirs');
    server.sandbox.configure({
      faultRules: [
        { fault: 'rateLimited', account: 'mine', count: 1 },
        { fault: 'errorAfterProcessing', account: 'other' },
      ],
    });
    expect((await refreshKind(server, 'single_use', theirs.refresh_token)).status).toBe(200);
    expect((await refreshKind(server, 'single_use', mine.refresh_token)).status).toBe(429);
    expect((await refreshKind(server, 'single_use', mine.refresh_token)).status).toBe(200);
    expect(server.sandbox.settings().faultRules).toEqual([
      { fault: 'errorAfterProcessing', account: 'other' },
    ]);
  });

  it.each([
    [[{ fault: 'none' }]],
    [[{ fault: 'explode' }]],
    [[{ fault: 'hang', provider: 'nowhere' }]],
    [[{ fault: 'hang', count: 0 }]],
    [[{ fault: 'hang', account: '' }]],
    [[{ fault: 'hang', extra: 1 }]],
    [{ fault: 'hang' }],
  ])('refuses %j', async (faultRules) => {
    const response = await server.post('/_sandbox/config', { faultRules });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error_description: expect.stringContaining('faultRules') });
  });

  it('every fault mode is accepted in a rule but none', () => {
    const modes = FAULT_MODES.filter((mode): mode is Exclude<FaultMode, 'none'> => mode !== 'none');
    expect(() => server.sandbox.configure({ faultRules: modes.map((fault) => ({ fault })) })).not.toThrow();
  });
});

describe('holds', () => {
  beforeEach(async () => {
    server = await startTestSandbox({ autoApprove: true });
  });

  it('beforeProcessing, dropped: the request is never processed; the refresh token is still unspent', async () => {
    const first = await connect('single_use', 'held');
    const hold = server.sandbox.hold({ account: 'held', stage: 'beforeProcessing' });
    const pending = refreshKind(server, 'single_use', first.refresh_token);
    await hold.arrived;
    hold.drop();
    await expect(pending).rejects.toThrow();
    expect(processed('single_use')).toBe(0);
    expect(await stillWorks('single_use', first.refresh_token)).toBe(true);
    expect(server.sandbox.refreshTokenReuses()).toEqual([]);
  });

  it('afterProcessing, dropped: processed, and the answer is lost', async () => {
    const first = await connect('single_use', 'held');
    const hold = server.sandbox.hold({ provider: 'bloomerang', stage: 'afterProcessing' });
    const pending = refreshKind(server, 'single_use', first.refresh_token);
    await hold.arrived;
    expect(processed('single_use')).toBe(1);
    hold.drop();
    await expect(pending).rejects.toThrow();
  });

  it('released: the request goes on, and a hold catches only the request it matches', async () => {
    const mine = await connect('grace', 'mine');
    const theirs = await connect('grace', 'theirs');
    const hold = server.sandbox.hold({ account: 'mine', stage: 'afterProcessing' });
    expect((await refreshKind(server, 'grace', theirs.refresh_token)).status).toBe(200);
    const pending = refreshKind(server, 'grace', mine.refresh_token);
    await hold.arrived;
    hold.release();
    expect((await pending).status).toBe(200);
  });
});
