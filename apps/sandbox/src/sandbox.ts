/**
 * The provider sandbox: one Fastify server imitating Bloomerang (`/bloomerang`), Bloom Credit (`/bloom`),
 * a generic OAuth 2.0 provider (`/generic`) and every catalogue provider as a profile (`/<id>`, see
 * profiles/), enforcing their rules, with test controls under `/_sandbox`. Everything lives in memory.
 */
import formbody from '@fastify/formbody';
import { setMaxListeners } from 'node:events';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerBloom } from './bloom';
import { registerBloomerang } from './bloomerang';
import {
  ClientRegistry,
  PROVIDER_NAMES,
  SANDBOX_CLIENTS,
  type ProviderName,
  type SandboxClient,
} from './clients';
import { registerGeneric } from './generic';
import { PROVIDER_PROFILES } from './profiles/catalogue';
import { registerProfiles, type ProfileContext } from './profiles/engine';
import { ProfileStore, type ProfileCounters } from './profiles/profile-store';
import {
  applySettingsPatch,
  DEFAULT_SETTINGS,
  SettingsError,
  type SandboxConfigPatch,
  type SandboxSettings,
} from './settings';
import { HoldRegistry, type HoldMatch, type TokenRequestHold } from './holds';
import {
  ReuseLog,
  SandboxStore,
  type RefreshTokenReuse,
  type RefreshTokenState,
  type SandboxStats as BuiltInStats,
} from './state';

export { DEFAULT_ACCOUNT } from './authorize';
export { BLOOMERANG_SCOPES } from './bloomerang';
export { SANDBOX_CLIENTS, type ProviderName, type SandboxClient } from './clients';
export {
  NON_BEARER_TOKEN_TYPE,
  OVERFLOWING_EXPIRES_IN,
  PROCESSED_FAULTS,
  RATE_LIMITED_RETRY_AFTER_SECONDS,
  UNAVAILABLE_RETRY_AFTER_SECONDS,
} from './faults';
export type { HoldMatch, HoldStage, TokenRequestHold } from './holds';
export type { RefreshTokenReuse, RefreshTokenState } from './state';
export {
  FAULT_MODES,
  type FaultMode,
  type FaultRule,
  type SandboxConfigPatch,
  type SandboxSettings,
} from './settings';
export { PROVIDER_PROFILES } from './profiles/catalogue';
export { profileClient } from './profiles/engine';
export type { ProviderProfile, ProfileTunables } from './profiles/profile';
export type { ProfileCounters } from './profiles/profile-store';

/** The counters of the built-in providers, and `profiles.<id>` for every catalogue profile. */
export type SandboxStats = BuiltInStats & { readonly profiles: Readonly<Record<string, ProfileCounters>> };

export interface SandboxOptions {
  /** Default 3600. TTLs are in seconds and may be fractional, which keeps expiry tests fast. */
  accessTokenTtlSeconds?: number;
  /** Bloomerang and generic refresh tokens; default 90 days. */
  refreshTokenTtlSeconds?: number;
  /** Default 600 (Bloomerang's ten minutes). */
  codeTtlSeconds?: number;
  /** Default 86400. */
  bloomTokenTtlSeconds?: number;
  /** Per-profile overrides of documented lifetimes and windows, e.g. `{ xero: { graceSeconds: 1 } }`. */
  profiles?: SandboxSettings['profiles'];
  /** Default false: the authorization endpoints show an approve/deny page. */
  autoApprove?: boolean;
  /** Delay before a token request is processed; nothing is consumed during it. Default 0. */
  tokenLatencyMs?: number;
  /** `slowAnswer`: the longest an answer waits for its client to give up. Default 60,000. */
  slowAnswerMs?: number;
  /**
   * Codes, access tokens and refresh tokens each kept at most (default 100,000); past it the oldest
   * is forgotten. The built-in providers' store counts those still live in `liveRecordsEvicted`;
   * the catalogue profiles' store does not count them yet. A benchmark with more connections than
   * that raises it.
   */
  maxRecordsPerKind?: number;
  /** Default: the three seeded clients of SANDBOX_CLIENTS. */
  clients?: readonly SandboxClient[];
  logger?: boolean;
}

export interface Sandbox {
  readonly app: FastifyInstance;
  /** Resolves the base URL, such as http://127.0.0.1:4123; port 0 picks a free port. */
  listen(port?: number, host?: string): Promise<string>;
  /** Closes the server, ending hanging faults and pending delays. */
  close(): Promise<void>;
  /** The same data as GET /_sandbox/stats; it never contains token values. */
  stats(): SandboxStats;
  /** Forgets codes, tokens and counters, and restores the settings given to createSandbox(). */
  reset(): void;
  /** Changes runtime settings; throws on an invalid patch. Same as POST /_sandbox/config. */
  configure(patch: SandboxConfigPatch): void;
  settings(): SandboxSettings;
  /**
   * Every refresh token presented after it had been exchanged (accepted in a grace window or by a
   * keep-old rule, or refused), optionally of one provider or profile and one account. Same as
   * GET /_sandbox/reuses?provider=&account=.
   */
  refreshTokenReuses(filter?: { provider?: string; account?: string }): RefreshTokenReuse[];
  /**
   * Stops the next token request matching `match` at its stage until the test releases or drops it,
   * to place a client crash before or after the provider processed a request. In-process only.
   */
  hold(match: HoldMatch): TokenRequestHold;
  /**
   * `unspent`, `spent` (exchanged before; a keep-old or grace rule may still take it) or `unknown`
   * (never issued, expired or revoked): for a test to check that a client kept the token it was given.
   */
  refreshTokenState(provider: string, refreshToken: string): RefreshTokenState;
}

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const {
    clients = Object.values(SANDBOX_CLIENTS),
    logger = false,
    maxRecordsPerKind,
    ...settingsOptions
  } = options;
  if (maxRecordsPerKind !== undefined && !(Number.isInteger(maxRecordsPerKind) && maxRecordsPerKind >= 1))
    throw new SettingsError(
      `maxRecordsPerKind must be a whole number of 1 or more, got ${maxRecordsPerKind}`,
    );
  const initialSettings = applySettingsPatch(DEFAULT_SETTINGS, settingsOptions);
  const shutdown = new AbortController();
  // Every token request delayed by `tokenLatencyMs` or held by a `hang` fault listens for the
  // shutdown: hundreds at once are expected under load, not a leak.
  setMaxListeners(0, shutdown.signal);
  const ctx: ProfileContext = {
    store: new SandboxStore(maxRecordsPerKind),
    profiles: new ProfileStore(
      PROVIDER_PROFILES.map((profile) => profile.id),
      maxRecordsPerKind,
    ),
    clients: new ClientRegistry(clients),
    reuses: new ReuseLog(),
    holds: new HoldRegistry(),
    settings: initialSettings,
    shutdown: shutdown.signal,
  };

  // Destroying open connections on close is what lets close() finish while a `hang` fault holds one.
  const app = Fastify({ logger, forceCloseConnections: true });
  app.addHook('preClose', async () => shutdown.abort());
  void app.register(formbody);
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply.status(status).send({ error: 'invalid_request', error_description: error.message });
    }
    request.log.error(error);
    return reply
      .status(500)
      .send({ error: 'server_error', error_description: 'The sandbox failed unexpectedly.' });
  });

  registerBloomerang(app, ctx);
  registerBloom(app, ctx);
  registerGeneric(app, ctx);
  registerProfiles(app, ctx, PROVIDER_PROFILES);

  const sandbox: Sandbox = {
    app,
    listen: (port = 0, host = '127.0.0.1') => app.listen({ port, host }),
    close: () => app.close(),
    stats: () => ({ ...ctx.store.stats(), profiles: ctx.profiles.stats() }),
    reset: () => {
      ctx.store.reset();
      ctx.profiles.reset();
      ctx.reuses.reset();
      ctx.holds.clear();
      ctx.settings = initialSettings;
    },
    configure: (patch) => {
      ctx.settings = applySettingsPatch(ctx.settings, patch);
    },
    settings: () => ctx.settings,
    refreshTokenReuses: (filter) => ctx.reuses.list(filter),
    hold: (match) => ctx.holds.add(match),
    refreshTokenState: (provider, refreshToken) =>
      (PROVIDER_NAMES as readonly string[]).includes(provider)
        ? ctx.store.refreshTokenState(provider as ProviderName, refreshToken)
        : ctx.profiles.refreshTokenState(provider, refreshToken),
  };
  registerControls(app, sandbox, ctx);
  return sandbox;
}

function registerControls(app: FastifyInstance, sandbox: Sandbox, ctx: ProfileContext): void {
  app.get('/_sandbox/stats', () => sandbox.stats());
  app.post('/_sandbox/reset', (_request, reply) => {
    sandbox.reset();
    return reply.status(204).send();
  });
  app.get('/_sandbox/config', () => sandbox.settings());
  app.get('/_sandbox/reuses', (request) => {
    const { provider, account } = (request.query ?? {}) as { provider?: string; account?: string };
    return sandbox.refreshTokenReuses({ provider, account });
  });
  app.post('/_sandbox/config', (request, reply) => {
    try {
      sandbox.configure(request.body as SandboxConfigPatch);
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error;
      return reply.status(400).send({ error: 'invalid_request', error_description: error.message });
    }
    return sandbox.settings();
  });
  // `?profile=<id>` limits it to one catalogue profile, so suites running profiles side by side keep the rest.
  app.post('/_sandbox/expire-access-tokens', (request, reply) => {
    const { profile } = (request.query ?? {}) as { profile?: string };
    if (profile === undefined) {
      return { expired: ctx.store.expireAccessTokens() + ctx.profiles.expireAccessTokens() };
    }
    if (!PROVIDER_PROFILES.some((candidate) => candidate.id === profile)) {
      return reply
        .status(400)
        .send({ error: 'invalid_request', error_description: `Unknown profile "${profile}".` });
    }
    return { expired: ctx.profiles.expireAccessTokens(profile) };
  });
}
