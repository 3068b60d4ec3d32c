import { jest } from '@jest/globals';
import { createHash, createHmac } from 'node:crypto';
import { PROVIDER_PROFILES } from './catalogue';
import { profileClient } from './engine';
import type { ProviderProfile } from './profile';
import { basicAuthorization, bearer, startTestSandbox, type TestSandbox } from '../testing';

let server: TestSandbox;
afterEach(() => server?.sandbox.close());

const REDIRECT_URI = 'http://127.0.0.1:3000/oauth/callback';
const VERIFIER = 'a'.repeat(20) + 'verifier-of-forty-three-chars-at-least';
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url');

const profileOf = (id: string): ProviderProfile => {
  const profile = PROVIDER_PROFILES.find((candidate) => candidate.id === id);
  if (!profile) throw new Error(`no profile ${id}`);
  return profile;
};

/** What each profile needs to hand out a refresh token on the happy path. */
const HAPPY: Record<
  string,
  { host?: string; scope?: string; authorize?: Record<string, string>; exchange?: Record<string, string> }
> = {
  google: { scope: 'openid email', authorize: { access_type: 'offline', prompt: 'consent' } },
  microsoft: { host: 'common', scope: 'offline_access User.Read' },
  salesforce: { scope: 'api refresh_token' },
  hubspot: { scope: 'crm.objects.contacts.read' },
  xero: { scope: 'offline_access accounting.transactions' },
  quickbooks: { scope: 'com.intuit.quickbooks.accounting' },
  zoom: { scope: 'meeting:read,user:read' },
  slack: { scope: 'chat:write,channels:read' },
  atlassian: {
    scope: 'offline_access read:jira-work',
    authorize: { audience: 'api.atlassian.com', prompt: 'consent' },
  },
  'github-app': {},
  dropbox: { authorize: { token_access_type: 'offline' } },
  box: {},
  docusign: { scope: 'signature extended' },
  shopify: { host: 'acme', scope: 'read_orders,write_products', exchange: { expiring: '1' } },
  zendesk: { host: 'acme', scope: 'read write', exchange: { expires_in: '1800' } },
  pipedrive: {},
  zoho: {
    host: 'eu',
    scope: 'ZohoCRM.modules.ALL,ZohoCRM.settings.READ',
    authorize: { access_type: 'offline', prompt: 'consent' },
  },
  x: { scope: 'tweet.read users.read offline.access' },
  canva: { scope: 'design:meta:read' },
  airtable: { scope: 'data.records:read' },
  'exact-online': {},
  gusto: {},
  netsuite: { host: '1234567-sb1', scope: 'rest_webservices restlets' },
  calendly: {},
  sage: { scope: 'full_access' },
  freshbooks: {},
  'constant-contact': { scope: 'contact_data offline_access' },
  keap: { scope: 'full' },
  myob: { scope: 'sme-company-file' },
  outreach: { scope: 'prospects.read' },
  asana: { scope: 'tasks:read' },
};

const base = (profile: ProviderProfile, host?: string) =>
  `/${profile.id}${profile.host ? `/${host ?? HAPPY[profile.id].host}` : ''}`;

interface FlowOptions {
  host?: string;
  authorize?: Record<string, string | undefined>;
  exchange?: Record<string, string | undefined>;
  account?: string;
}

/** Approves at /authorize and returns the redirect's query. */
async function authorize(profile: ProviderProfile, options: FlowOptions = {}): Promise<URLSearchParams> {
  const happy = HAPPY[profile.id];
  const query: Record<string, string | undefined> = {
    client_id: profileClient(profile).clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    state: 'state-1',
    scope: happy.scope,
    ...(profile.pkce === 'required' ? { code_challenge: CHALLENGE, code_challenge_method: 'S256' } : {}),
    ...happy.authorize,
    sandbox_decision: 'approve',
    sandbox_account: options.account,
    ...options.authorize,
  };
  const search = new URLSearchParams(
    Object.entries(query).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const response = await server.get(`${base(profile, options.host)}/authorize?${search}`);
  expect(response.status).toBe(302);
  return new URL(response.headers.get('location')!).searchParams;
}

/** Posts to the token endpoint, authenticating the way the profile documents (Basic where allowed). */
function token(
  profile: ProviderProfile,
  form: Record<string, string>,
  options: { host?: string; method?: 'basic' | 'post'; accept?: string } = {},
) {
  const { clientId, clientSecret } = profileClient(profile);
  const method = options.method ?? (profile.clientAuthentication === 'post' ? 'post' : 'basic');
  const body = new URLSearchParams(form);
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
  if (method === 'basic') headers.authorization = basicAuthorization(clientId, clientSecret);
  else {
    body.set('client_id', clientId);
    body.set('client_secret', clientSecret);
  }
  return server.post(`${base(profile, options.host)}/token`, body, headers);
}

async function connect(profile: ProviderProfile, options: FlowOptions = {}) {
  const callback = await authorize(profile, options);
  const code = callback.get('code');
  expect(code).toEqual(expect.any(String));
  const response = await token(
    profile,
    {
      grant_type: 'authorization_code',
      code: code!,
      redirect_uri: REDIRECT_URI,
      ...(profile.pkce === 'required' ? { code_verifier: VERIFIER } : {}),
      ...withoutUndefined({ ...HAPPY[profile.id].exchange, ...options.exchange }),
    },
    { host: options.host },
  );
  return { callback, response, body: response.json<Record<string, any>>() };
}

const withoutUndefined = (values: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );

const refresh = (profile: ProviderProfile, refreshToken: string, host?: string) =>
  token(profile, { grant_type: 'refresh_token', refresh_token: refreshToken }, { host });

const resource = (profile: ProviderProfile, accessToken: string, host?: string) =>
  server.get(`${base(profile, host)}/resource`, bearer(accessToken));

const stats = (id: string) => server.sandbox.stats().profiles[id];

describe('every profile', () => {
  it.each(PROVIDER_PROFILES.map((profile) => [profile.id, profile] as const))(
    '%s: code flow, then two refreshes, with the seeded client',
    async (_id, profile) => {
      server = await startTestSandbox();
      const { response, body } = await connect(profile);
      expect(response.status).toBe(200);
      expect(body.access_token).toEqual(expect.any(String));
      expect(body.refresh_token).toEqual(expect.any(String));
      expect((await resource(profile, body.access_token)).status).toBe(200);
      let refreshToken: string = body.refresh_token;
      for (let round = 0; round < 2; round++) {
        if (profile.earliestRefreshSeconds !== undefined) await server.post('/_sandbox/expire-access-tokens');
        const refreshed = await refresh(profile, refreshToken);
        expect(refreshed.status).toBe(200);
        const next = refreshed.json<Record<string, any>>();
        expect((await resource(profile, next.access_token)).status).toBe(200);
        refreshToken = next.refresh_token ?? refreshToken;
      }
      expect(stats(profile.id)).toMatchObject({
        tokenRequests: { authorization_code: 1, refresh_token: 2 },
        codeExchanges: 1,
        refreshGrants: 2,
        refreshTokenReuses: 0,
      });
    },
  );
});

describe('client authentication as documented', () => {
  it.each([
    ['xero', 'post'],
    ['x', 'post'],
    ['google', 'basic'],
    ['atlassian', 'basic'],
  ] as const)('%s refuses %s', async (id, method) => {
    server = await startTestSandbox();
    const profile = profileOf(id);
    const { callback } = { callback: await authorize(profile) };
    const refused = await token(
      profile,
      {
        grant_type: 'authorization_code',
        code: callback.get('code')!,
        redirect_uri: REDIRECT_URI,
        code_verifier: VERIFIER,
      },
      { method },
    );
    expect(refused.status).toBe(401);
    expect(refused.json()).toMatchObject({ error: 'invalid_client' });
    expect(stats(id).invalidClient).toBe(1);
  });

  it.each(['basic', 'post'] as const)('canva accepts %s', async (method) => {
    server = await startTestSandbox();
    const profile = profileOf('canva');
    const callback = await authorize(profile);
    const response = await token(
      profile,
      {
        grant_type: 'authorization_code',
        code: callback.get('code')!,
        redirect_uri: REDIRECT_URI,
        code_verifier: VERIFIER,
      },
      { method },
    );
    expect(response.status).toBe(200);
  });

  it('refuses a wrong secret', async () => {
    server = await startTestSandbox();
    const response = await server.post(
      '/box/token',
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: 'sandbox-box',
        client_secret: 'nope',
      }),
    );
    expect(response.status).toBe(401);
  });
});

describe('PKCE', () => {
  it.each(['x', 'canva', 'airtable'])(
    '%s requires an S256 challenge and verifies the verifier',
    async (id) => {
      server = await startTestSandbox();
      const profile = profileOf(id);
      const missing = await authorize(profile, {
        authorize: { code_challenge: undefined, code_challenge_method: undefined },
      });
      expect(missing.get('error')).toBe('invalid_request');
      const plain = await authorize(profile, {
        authorize: { code_challenge: VERIFIER, code_challenge_method: 'plain' },
      });
      expect(plain.get('error')).toBe('invalid_request');

      const newCode = async () => ({
        grant_type: 'authorization_code',
        code: (await authorize(profile)).get('code')!,
        redirect_uri: REDIRECT_URI,
      });
      expect((await token(profile, await newCode())).json()).toMatchObject({
        error: 'invalid_grant',
        error_description: expect.stringContaining('code_verifier is required'),
      });
      const form = await newCode();
      const wrong = await token(profile, { ...form, code_verifier: `${VERIFIER}x` });
      expect(wrong.status).toBe(400);
      expect(wrong.json()).toMatchObject({
        error: 'invalid_grant',
        error_description: expect.stringContaining('code_verifier'),
      });
      // A failed check burns the code: the right verifier comes too late.
      expect((await token(profile, { ...form, code_verifier: VERIFIER })).json()).toMatchObject({
        error: 'invalid_grant',
      });
      expect((await token(profile, { ...(await newCode()), code_verifier: VERIFIER })).status).toBe(200);
    },
  );

  it('verifies an optional challenge where the provider supports PKCE', async () => {
    server = await startTestSandbox();
    const profile = profileOf('google');
    const code = (
      await authorize(profile, { authorize: { code_challenge: CHALLENGE, code_challenge_method: 'S256' } })
    ).get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
    expect((await token(profile, { ...form, code_verifier: 'b'.repeat(43) })).json()).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await token(profile, { ...form, code_verifier: VERIFIER })).json()).toMatchObject({
      error: 'invalid_grant',
    });
  });

  it('a reused authorization code is refused and revokes the tokens it issued (RFC 6749 4.1.2)', async () => {
    server = await startTestSandbox();
    const profile = profileOf('xero');
    const code = (await authorize(profile)).get('code')!;
    const form = { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI };
    const issued = (await token(profile, form)).json<{ access_token: string; refresh_token: string }>();
    expect((await resource(profile, issued.access_token)).status).toBe(200);
    expect((await token(profile, form)).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await resource(profile, issued.access_token)).status).toBe(401);
    expect((await refresh(profile, issued.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
    expect(stats('xero')).toMatchObject({ codeReuses: 1, lineageRevocations: 1 });
  });
});

describe('refresh-token rotation', () => {
  it('xero: the spent token is accepted again only within the grace window', async () => {
    server = await startTestSandbox({ profiles: { xero: { graceSeconds: 0.4 } } });
    const profile = profileOf('xero');
    const first = (await connect(profile)).body.refresh_token;
    const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
    expect(second).not.toBe(first);
    expect((await refresh(profile, first)).status).toBe(200); // within the window
    await new Promise((resolve) => setTimeout(resolve, 500));
    const late = await refresh(profile, first);
    expect(late.status).toBe(400);
    expect(late.json()).toMatchObject({ error: 'invalid_grant' });
    expect(stats('xero')).toMatchObject({
      refreshTokenReuses: 2,
      refreshTokenReusesRefused: 1,
      lineageRevocations: 0,
    });
    expect((await refresh(profile, second)).status).toBe(200); // Xero revokes nothing else
  });

  it('atlassian: the replaced access token ends once the reuse interval (shortened) is over', async () => {
    server = await startTestSandbox({ profiles: { atlassian: { graceSeconds: 0.3 } } });
    const profile = profileOf('atlassian');
    const { body } = await connect(profile);
    const next = (await refresh(profile, body.refresh_token)).json<{ access_token: string }>();
    expect((await resource(profile, body.access_token)).status).toBe(200); // within the interval
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await resource(profile, body.access_token)).status).toBe(401);
    expect((await resource(profile, next.access_token)).status).toBe(200);
  });

  it('atlassian: a reuse after the 10-minute leeway (shortened) invalidates every refresh token', async () => {
    server = await startTestSandbox();
    server.sandbox.configure({ profiles: { atlassian: { graceSeconds: 0.2 } } });
    const profile = profileOf('atlassian');
    const first = (await connect(profile)).body.refresh_token;
    const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await refresh(profile, first)).status).toBe(400);
    expect((await refresh(profile, second)).json()).toMatchObject({ error: 'invalid_grant' });
    expect(stats('atlassian').lineageRevocations).toBe(1);
  });

  it.each(['x', 'airtable', 'zoom', 'github-app', 'slack', 'pipedrive'])(
    '%s: single-use, a reuse is refused',
    async (id) => {
      server = await startTestSandbox();
      const profile = profileOf(id);
      const first = (await connect(profile)).body.refresh_token;
      const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
      const reused = await refresh(profile, first);
      const refusals: Record<string, object> = {
        github: { error: 'bad_refresh_token' },
        slack: { ok: false, error: 'invalid_refresh_token' },
      };
      expect(reused.json()).toMatchObject(refusals[profile.answerShape] ?? { error: 'invalid_grant' });
      expect(stats(id)).toMatchObject({ refreshTokenReuses: 1, refreshTokenReusesRefused: 1 });
      expect((await refresh(profile, second)).status).toBe(200);
    },
  );

  it('canva: reusing a spent refresh token revokes the whole lineage, access tokens included', async () => {
    server = await startTestSandbox();
    const profile = profileOf('canva');
    const first = (await connect(profile)).body.refresh_token;
    const next = (await refresh(profile, first)).json<{ refresh_token: string; access_token: string }>();
    expect((await resource(profile, next.access_token)).status).toBe(200);
    expect((await refresh(profile, first)).json()).toMatchObject({ error: 'invalid_grant' });
    expect((await resource(profile, next.access_token)).status).toBe(401);
    expect((await refresh(profile, next.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
    expect(stats('canva')).toMatchObject({ lineageRevocations: 1, refreshTokenReusesRefused: 1 });
  });

  it('microsoft: a new refresh token each time, the old one still valid', async () => {
    server = await startTestSandbox();
    const profile = profileOf('microsoft');
    const first = (await connect(profile)).body.refresh_token;
    const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
    expect(second).not.toBe(first);
    expect((await refresh(profile, first)).status).toBe(200);
    expect(stats('microsoft')).toMatchObject({ refreshTokenReuses: 1, refreshTokenReusesRefused: 0 });
  });

  it.each(['shopify', 'box'])('%s: the old refresh token lives until its replacement is used', async (id) => {
    server = await startTestSandbox();
    const profile = profileOf(id);
    const first = (await connect(profile)).body.refresh_token;
    const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
    const third = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
    expect((await refresh(profile, third)).status).toBe(200);
    expect((await refresh(profile, first)).json()).toMatchObject({ error: 'invalid_grant' });
    expect(second).not.toBe(third);
  });

  it('google and salesforce keep the refresh token and leave it out of the refresh answer', async () => {
    server = await startTestSandbox();
    for (const id of ['google', 'salesforce']) {
      const profile = profileOf(id);
      const first = (await connect(profile)).body.refresh_token;
      for (let round = 0; round < 2; round++) {
        const body = (await refresh(profile, first)).json<Record<string, unknown>>();
        expect(body.access_token).toEqual(expect.any(String));
        expect(body).not.toHaveProperty('refresh_token');
      }
    }
  });

  it('github-app: a refresh ends the old user access token', async () => {
    server = await startTestSandbox();
    const profile = profileOf('github-app');
    const { body } = await connect(profile);
    expect(body).toMatchObject({
      expires_in: 28800,
      refresh_token_expires_in: 15897600,
      token_type: 'bearer',
      scope: '',
    });
    expect((await refresh(profile, body.refresh_token)).status).toBe(200);
    expect((await resource(profile, body.access_token)).status).toBe(401);
  });

  it('an unused refresh token expires after its documented (here shortened) lifetime', async () => {
    server = await startTestSandbox({ profiles: { box: { refreshTokenUnusedTtlSeconds: 0.2 } } });
    const profile = profileOf('box');
    const first = (await connect(profile)).body.refresh_token;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await refresh(profile, first)).json()).toMatchObject({ error: 'invalid_grant' });
  });
});

describe('earliest refresh', () => {
  it('exact-online refuses a refresh while the access token has more than 30 seconds left', async () => {
    server = await startTestSandbox();
    const profile = profileOf('exact-online');
    const first = (await connect(profile)).body.refresh_token;
    const early = await refresh(profile, first);
    expect(early.status).toBe(400);
    expect(early.json()).toMatchObject({ error: 'invalid_request' });
    expect(stats('exact-online').earlyRefreshRefused).toBe(1);
    server.sandbox.configure({ profiles: { 'exact-online': { accessTokenTtlSeconds: 20 } } });
    const late = await connect(profile);
    expect((await refresh(profile, late.body.refresh_token)).status).toBe(200);
    // The refused attempt spent nothing: the first token still works once the access token is expired.
    expect((await server.post('/_sandbox/expire-access-tokens?profile=nowhere')).status).toBe(400);
    expect((await server.post('/_sandbox/expire-access-tokens?profile=exact-online')).json()).toEqual({
      expired: 3,
    });
    expect((await refresh(profile, first)).status).toBe(200);
  });
});

describe('conditions for a refresh token', () => {
  it('google: access_type=offline, and prompt=consent for a second one', async () => {
    server = await startTestSandbox();
    const profile = profileOf('google');
    const online = await connect(profile, {
      account: 'ann',
      authorize: { access_type: undefined, prompt: undefined },
    });
    expect(online.body).not.toHaveProperty('refresh_token');
    const offline = await connect(profile, { account: 'ann', authorize: { prompt: undefined } });
    expect(offline.body.refresh_token).toEqual(expect.any(String));
    const again = await connect(profile, { account: 'ann', authorize: { prompt: undefined } });
    expect(again.body).not.toHaveProperty('refresh_token');
    const consent = await connect(profile, { account: 'ann' });
    expect(consent.body.refresh_token).toEqual(expect.any(String));
  });

  it.each([
    ['dropbox', { authorize: { token_access_type: undefined } }],
    ['x', { authorize: { scope: 'tweet.read users.read' } }],
    ['xero', { authorize: { scope: 'accounting.transactions' } }],
    ['shopify', { exchange: { expiring: '0' } }],
    ['salesforce', { authorize: { scope: 'api' } }],
    ['zendesk', { exchange: { expires_in: undefined } }],
  ] as const)('%s gives no refresh token without its parameter', async (id, options) => {
    server = await startTestSandbox();
    const { response, body } = await connect(profileOf(id), options);
    expect(response.status).toBe(200);
    expect(body).not.toHaveProperty('refresh_token');
  });

  it('salesforce: offline_access earns the refresh token as refresh_token does', async () => {
    server = await startTestSandbox();
    const { body } = await connect(profileOf('salesforce'), { authorize: { scope: 'api offline_access' } });
    expect(body.refresh_token).toEqual(expect.any(String));
  });

  it('google: an app in testing status gets refresh tokens that die 7 days after the grant', async () => {
    server = await startTestSandbox({ profiles: { google: { testingApp: 1 } } });
    const profile = profileOf('google');
    const { body } = await connect(profile);
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now + 7 * 86_400_000 + 1000);
    try {
      expect((await refresh(profile, body.refresh_token)).json()).toMatchObject({ error: 'invalid_grant' });
    } finally {
      spy.mockRestore();
    }
    server.sandbox.configure({ profiles: { google: { testingApp: 0 } } });
    const production = (await connect(profile, { account: 'bob' })).body.refresh_token;
    const later = jest.spyOn(Date, 'now').mockReturnValue(now + 7 * 86_400_000 + 1000);
    try {
      expect((await refresh(profile, production)).status).toBe(200);
    } finally {
      later.mockRestore();
    }
  });

  it('zoho: the 21st refresh token of an account removes the first', async () => {
    server = await startTestSandbox();
    const profile = profileOf('zoho');
    const tokens: string[] = [];
    for (let n = 0; n < 21; n++) tokens.push((await connect(profile, { account: 'ann' })).body.refresh_token);
    expect((await refresh(profile, tokens[0])).json()).toMatchObject({ error: 'invalid_code' });
    expect((await refresh(profile, tokens[1])).status).toBe(200);
    expect((await refresh(profile, tokens[20])).status).toBe(200);
    // Another account's tokens are counted apart.
    expect((await connect(profile, { account: 'bob' })).body.refresh_token).toEqual(expect.any(String));
    expect((await refresh(profile, tokens[1])).status).toBe(200);
    expect(stats('zoho').refreshTokensCapped).toBe(1);
  });

  it('atlassian refuses an authorization request without audience=api.atlassian.com', async () => {
    server = await startTestSandbox();
    const callback = await authorize(profileOf('atlassian'), { authorize: { audience: undefined } });
    expect(callback.get('error')).toBe('invalid_request');
    expect(callback.get('error_description')).toContain('audience=api.atlassian.com');
  });

  it.each(['zoom', 'slack', 'shopify', 'zoho'])('%s takes comma-separated scopes only', async (id) => {
    server = await startTestSandbox();
    const callback = await authorize(profileOf(id), { authorize: { scope: 'a b' } });
    expect(callback.get('error')).toBe('invalid_scope');
  });

  it('quickbooks refuses a scope it does not know', async () => {
    server = await startTestSandbox();
    const callback = await authorize(profileOf('quickbooks'), {
      authorize: { scope: 'com.intuit.quickbooks.everything' },
    });
    expect(callback.get('error')).toBe('invalid_scope');
  });
});

describe('answer and error shapes', () => {
  it('slack: ok:true with team, app_id and bot_user_id; errors are HTTP 200 ok:false', async () => {
    server = await startTestSandbox();
    const profile = profileOf('slack');
    const { response, body } = await connect(profile);
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      ok: true,
      token_type: 'bot',
      expires_in: 43200,
      scope: 'chat:write,channels:read',
      app_id: expect.any(String),
      bot_user_id: expect.any(String),
      team: { id: expect.stringMatching(/^T/), name: expect.any(String) },
    });
    const refused = await refresh(profile, 'unknown');
    expect(refused.status).toBe(200);
    expect(refused.json()).toEqual({ ok: false, error: 'invalid_refresh_token' });
  });

  it('github-app: errors are HTTP 200 with error, and the answer is form-encoded unless JSON is asked for', async () => {
    server = await startTestSandbox();
    const profile = profileOf('github-app');
    const refused = await refresh(profile, 'unknown');
    expect(refused.status).toBe(200);
    expect(refused.json()).toMatchObject({
      error: 'bad_refresh_token',
      error_description: expect.any(String),
    });
    const form = await token(
      profile,
      { grant_type: 'refresh_token', refresh_token: 'unknown' },
      { accept: '*/*' },
    );
    expect(form.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
    expect(new URLSearchParams(form.text).get('error')).toBe('bad_refresh_token');
  });

  it('zoho: errors are HTTP 200 { error }; the answer names api_domain', async () => {
    server = await startTestSandbox();
    const profile = profileOf('zoho');
    expect((await connect(profile)).body).toMatchObject({ api_domain: 'https://www.zohoapis.eu' });
    const refused = await refresh(profile, 'unknown');
    expect(refused.status).toBe(200);
    expect(refused.json()).toEqual({ error: 'invalid_code' });
  });

  it('salesforce: no expires_in; instance_url points at the sandbox', async () => {
    server = await startTestSandbox();
    const { body } = await connect(profileOf('salesforce'));
    expect(body).not.toHaveProperty('expires_in');
    expect(body.instance_url).toBe(`${server.baseUrl}/salesforce/instance`);
    expect(body.id).toEqual(expect.stringContaining('/salesforce/id/'));
  });

  it('dropbox and pipedrive send their account metadata; quickbooks sends realmId on the callback', async () => {
    server = await startTestSandbox();
    expect((await connect(profileOf('dropbox'))).body).toMatchObject({
      account_id: expect.stringMatching(/^dbid:/),
    });
    expect((await connect(profileOf('pipedrive'))).body).toMatchObject({
      api_domain: expect.stringContaining('/pipedrive/api/'),
    });
    expect((await authorize(profileOf('quickbooks'))).get('realmId')).toEqual(expect.any(String));
  });
});

describe('per-connection hosts', () => {
  it('shopify: the callback is signed and names the shop; a code from one shop is refused at another', async () => {
    server = await startTestSandbox();
    const profile = profileOf('shopify');
    const callback = await authorize(profile, { host: 'acme' });
    const query = Object.fromEntries([...callback].filter(([name]) => name !== 'hmac'));
    expect(query).toMatchObject({
      shop: 'acme.myshopify.com',
      host: expect.any(String),
      timestamp: expect.stringMatching(/^\d+$/),
    });
    const message = Object.keys(query)
      .sort()
      .map((name) => `${name}=${query[name]}`)
      .join('&');
    expect(callback.get('hmac')).toBe(
      createHmac('sha256', profileClient(profile).clientSecret).update(message).digest('hex'),
    );
    const form = {
      grant_type: 'authorization_code',
      code: callback.get('code')!,
      redirect_uri: REDIRECT_URI,
      expiring: '1',
    };
    expect((await token(profile, form, { host: 'other' })).json()).toMatchObject({ error: 'invalid_grant' });
    const body = (await token(profile, form, { host: 'acme' })).json<Record<string, string>>();
    expect(body).not.toHaveProperty('token_type');
    expect((await refresh(profile, body.refresh_token, 'other')).json()).toMatchObject({
      error: 'invalid_grant',
    });
    expect((await resource(profile, body.access_token, 'other')).status).toBe(401);
    expect((await refresh(profile, body.refresh_token, 'acme')).status).toBe(200);
  });

  it.each([
    ['zoho', 'org'],
    ['shopify', 'a.b'],
    ['microsoft', 'not a tenant'],
  ])('%s refuses the host value %j', async (id, host) => {
    server = await startTestSandbox();
    const response = await server.get(`/${id}/${encodeURIComponent(host)}/authorize?client_id=sandbox-${id}`);
    expect(response.status).toBe(400);
    expect(response.text).toContain(`No ${profileOf(id).name}`);
  });
});

describe('consent page and client credentials', () => {
  it('shows the approve/deny page without a decision, and its form completes the flow at a host path', async () => {
    server = await startTestSandbox();
    const profile = profileOf('shopify');
    const query = new URLSearchParams({
      client_id: profileClient(profile).clientId,
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'read_orders',
      state: 's',
    });
    const page = await server.get(`/shopify/acme/authorize?${query}`);
    expect(page.status).toBe(200);
    const action = /action="([^"]+)"/.exec(page.text)?.[1];
    expect(action).toBe('/shopify/acme/authorize/decision');
    const decided = await server.post(
      action!,
      new URLSearchParams({ ...Object.fromEntries(query), sandbox_decision: 'approve' }),
    );
    expect(decided.status).toBe(302);
    const location = new URL(decided.headers.get('location')!);
    expect(location.searchParams.get('code')).toEqual(expect.any(String));
    expect(location.searchParams.get('shop')).toBe('acme.myshopify.com');
  });

  it('microsoft: client credentials give an access token and no refresh token', async () => {
    server = await startTestSandbox();
    const profile = profileOf('microsoft');
    const response = await token(profile, {
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    });
    expect(response.status).toBe(200);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(body).not.toHaveProperty('refresh_token');
    expect((await resource(profile, body.access_token as string)).json()).toMatchObject({
      account: null,
      host: 'common',
    });
    // A provider that documents only the code flow refuses it.
    expect((await token(profileOf('box'), { grant_type: 'client_credentials' })).json()).toMatchObject({
      error: 'unsupported_grant_type',
    });
  });
});

describe('test settings', () => {
  it.each([
    [{ profiles: { nowhere: { graceSeconds: 1 } } }],
    [{ profiles: { xero: { graceMinutes: 1 } } }],
    [{ profiles: { xero: { graceSeconds: -1 } } }],
  ])('refuses %j', async (patch) => {
    server = await startTestSandbox();
    expect((await server.post('/_sandbox/config', patch)).status).toBe(400);
  });

  it('merges profile overrides, null restoring the documented value', async () => {
    server = await startTestSandbox();
    server.sandbox.configure({ profiles: { xero: { graceSeconds: 5, accessTokenTtlSeconds: 60 } } });
    server.sandbox.configure({ profiles: { xero: { graceSeconds: null as unknown as number } } });
    expect(server.sandbox.settings().profiles).toEqual({ xero: { accessTokenTtlSeconds: 60 } });
    expect((await connect(profileOf('xero'))).body.expires_in).toBe(60);
  });

  it('limits a fault to one profile', async () => {
    server = await startTestSandbox();
    server.sandbox.configure({ fault: 'unavailable', faultProvider: 'box', faultCount: 1 });
    expect((await refresh(profileOf('box'), 'x')).status).toBe(503);
    expect((await refresh(profileOf('box'), 'x')).status).toBe(400);
  });
});

describe('the second catalogue wave, as its pages say', () => {
  it.each(['gusto', 'calendly', 'sage', 'freshbooks', 'constant-contact', 'keap', 'myob', 'outreach'])(
    '%s: a new refresh token on each refresh, a used one refused',
    async (id) => {
      server = await startTestSandbox();
      const profile = profileOf(id);
      const first = (await connect(profile)).body.refresh_token;
      const second = (await refresh(profile, first)).json<{ refresh_token: string }>().refresh_token;
      expect(second).not.toBe(first);
      expect((await refresh(profile, first)).json()).toMatchObject({ error: 'invalid_grant' });
      expect(stats(id)).toMatchObject({ refreshTokenReuses: 1, refreshTokenReusesRefused: 1 });
      expect((await refresh(profile, second)).status).toBe(200);
    },
  );

  it.each(['netsuite', 'asana'])(
    '%s: the refresh answer has no refresh token; the same one works again',
    async (id) => {
      server = await startTestSandbox();
      const profile = profileOf(id);
      const first = (await connect(profile)).body.refresh_token;
      const refreshed = await refresh(profile, first);
      expect(refreshed.status).toBe(200);
      expect(refreshed.json()).not.toHaveProperty('refresh_token');
      expect((await refresh(profile, first)).status).toBe(200);
    },
  );

  it('constant-contact gives no refresh token without offline_access', async () => {
    server = await startTestSandbox();
    const { response, body } = await connect(profileOf('constant-contact'), {
      authorize: { scope: 'contact_data' },
    });
    expect(response.status).toBe(200);
    expect(body).not.toHaveProperty('refresh_token');
  });

  it.each([
    ['netsuite', 'post'],
    ['calendly', 'post'],
    ['constant-contact', 'post'],
    ['gusto', 'basic'],
    ['sage', 'basic'],
    ['asana', 'basic'],
  ] as const)('%s refuses client credentials sent by %s', async (id, method) => {
    server = await startTestSandbox();
    const profile = profileOf(id);
    const callback = await authorize(profile);
    const refused = await token(
      profile,
      { grant_type: 'authorization_code', code: callback.get('code')!, redirect_uri: REDIRECT_URI },
      { method },
    );
    expect(refused.json()).toMatchObject({ error: 'invalid_client' });
  });

  it.each(['basic', 'post'] as const)(
    'keap accepts %s (body on the exchange, Basic on the refresh)',
    async (method) => {
      server = await startTestSandbox();
      const profile = profileOf('keap');
      const callback = await authorize(profile);
      const response = await token(
        profile,
        { grant_type: 'authorization_code', code: callback.get('code')!, redirect_uri: REDIRECT_URI },
        { method },
      );
      expect(response.status).toBe(200);
    },
  );

  it.each([
    ['sage', { scope: 'admin' }],
    ['keap', { scope: 'contacts' }],
    ['netsuite', { scope: 'rest_webservices suitetalk' }],
    ['netsuite', { scope: undefined }],
    ['asana', { scope: undefined }],
  ] as const)('%s refuses the authorization with %j', async (id, authorize_) => {
    server = await startTestSandbox();
    const callback = await authorize(profileOf(id), { authorize: authorize_ });
    expect(callback.get('error')).toBe('invalid_scope');
    expect(callback.get('code')).toBeNull();
  });

  it('netsuite, sage and myob name the account on the callback; calendly, sage and asana in the answer', async () => {
    server = await startTestSandbox();
    const netsuite = await connect(profileOf('netsuite'));
    expect(Object.fromEntries(netsuite.callback)).toMatchObject({ company: '1234567-sb1', role: '3' });
    const sage = await connect(profileOf('sage'));
    expect(sage.callback.get('country')).toBe('GB');
    expect(sage.body).toMatchObject({ expires_in: 300, refresh_token_expires_in: 31 * 86400 });
    expect(sage.body.requested_by_id).toEqual(expect.any(String));
    const myob = await connect(profileOf('myob'));
    expect(myob.callback.get('businessId')).toMatch(/^[0-9a-f-]{24}[0-9A-F]{12}$/);
    expect((await connect(profileOf('calendly'))).body).toMatchObject({
      owner: expect.stringMatching(/^https:\/\/api\.calendly\.com\/users\//),
      organization: expect.stringMatching(/^https:\/\/api\.calendly\.com\/organizations\//),
    });
    expect((await connect(profileOf('asana'))).body.data).toMatchObject({ gid: expect.any(String) });
  });
});
