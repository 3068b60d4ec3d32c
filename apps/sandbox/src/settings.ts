import { PROVIDER_NAMES, type ProviderName } from './clients';
import { PROVIDER_PROFILES } from './profiles/catalogue';
import { PROFILE_TUNABLES, type ProfileTunables } from './profiles/profile';

const PROFILE_IDS = PROVIDER_PROFILES.map((profile) => profile.id);
/** The built-in providers and every catalogue profile: what a fault may be limited to. */
const FAULT_TARGETS: readonly string[] = [...PROVIDER_NAMES, ...PROFILE_IDS];

export const FAULT_MODES = [
  'none',
  'html500',
  'invalidJson',
  'hang',
  'rateLimited',
  'unavailable',
  'absurdLifetime',
  // Processed first (the refresh token is consumed and rotated), then answered badly: see faults.ts.
  'lostAnswer',
  'slowAnswer',
  'errorAfterProcessing',
  'zeroExpiresIn',
  'overflowingExpiresIn',
  'arrayScope',
  'nonBearerTokenType',
] as const;
export type FaultMode = (typeof FAULT_MODES)[number];

/**
 * A fault for the token requests it matches, beside the one `fault` setting: several at once, each
 * limited to a provider (or profile), an account (`sandbox_account` at authorization) and a count, so
 * concurrent tests each fault their own connection.
 */
export interface FaultRule {
  readonly fault: Exclude<FaultMode, 'none'>;
  /** null or absent: every provider. */
  readonly provider?: string | null;
  /** The account the presented refresh token or code belongs to; null or absent: any. */
  readonly account?: string | null;
  /** How many more matching requests it applies to; null or absent: until changed. */
  readonly count?: number | null;
}

/** The settings tests may change while the sandbox runs (`configure()` or `POST /_sandbox/config`). */
export interface SandboxSettings {
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly codeTtlSeconds: number;
  readonly bloomTokenTtlSeconds: number;
  readonly autoApprove: boolean;
  /** Delay before a token request is processed; nothing is consumed while it lasts. */
  readonly tokenLatencyMs: number;
  readonly fault: FaultMode;
  /** Limits the fault to one provider's (or profile's) token endpoints; null means every provider. */
  readonly faultProvider: ProviderName | string | null;
  /** How many more token requests the fault applies to; null means until changed. */
  readonly faultCount: number | null;
  /** More faults, each limited to a provider, an account and a count; the first match applies. */
  readonly faultRules: readonly FaultRule[];
  /** `slowAnswer`: the answer waits until the client has gone away, or this long at most. */
  readonly slowAnswerMs: number;
  /**
   * Per-profile overrides of documented lifetimes and windows, so tests need not wait 30 minutes for a
   * grace period to end: `{ xero: { graceSeconds: 1 } }`. A patch merges into the profile's overrides.
   */
  readonly profiles: Readonly<Record<string, ProfileTunables>>;
}

export type SandboxConfigPatch = Partial<SandboxSettings>;

const isSeconds = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0;

function isProfileOverrides(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  return Object.entries(value).every(
    ([id, tunables]) =>
      PROFILE_IDS.includes(id) &&
      typeof tunables === 'object' &&
      tunables !== null &&
      Object.entries(tunables as object).every(
        ([name, seconds]) =>
          PROFILE_TUNABLES.includes(name as keyof ProfileTunables) &&
          (seconds === null || isSeconds(seconds)),
      ),
  );
}

function isFaultRule(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { fault, provider, account, count, ...rest } = value as Record<string, unknown>;
  return (
    Object.keys(rest).length === 0 &&
    fault !== 'none' &&
    FAULT_MODES.includes(fault as FaultMode) &&
    (provider === undefined || provider === null || FAULT_TARGETS.includes(provider as string)) &&
    (account === undefined || account === null || (typeof account === 'string' && account !== '')) &&
    (count === undefined || count === null || (Number.isInteger(count) && (count as number) > 0))
  );
}

export const DEFAULT_SETTINGS: SandboxSettings = {
  accessTokenTtlSeconds: 3600,
  refreshTokenTtlSeconds: 90 * 24 * 3600,
  codeTtlSeconds: 600,
  bloomTokenTtlSeconds: 86400,
  autoApprove: false,
  tokenLatencyMs: 0,
  fault: 'none',
  faultProvider: null,
  faultCount: null,
  faultRules: [],
  slowAnswerMs: 60_000,
  profiles: {},
};

type Validator = (value: unknown) => boolean;

const isPositiveNumber: Validator = (value) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0;

/** Each setting's check, with the wording used when a value fails it. */
const RULES: { readonly [K in keyof SandboxSettings]: readonly [Validator, string] } = {
  accessTokenTtlSeconds: [isPositiveNumber, 'a positive number of seconds'],
  refreshTokenTtlSeconds: [isPositiveNumber, 'a positive number of seconds'],
  codeTtlSeconds: [isPositiveNumber, 'a positive number of seconds'],
  bloomTokenTtlSeconds: [isPositiveNumber, 'a positive number of seconds'],
  autoApprove: [(value) => typeof value === 'boolean', 'true or false'],
  tokenLatencyMs: [
    (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
    'a number of milliseconds, 0 or more',
  ],
  fault: [(value) => FAULT_MODES.includes(value as FaultMode), `one of ${FAULT_MODES.join(', ')}`],
  faultProvider: [
    (value) => value === null || FAULT_TARGETS.includes(value as string),
    `null or one of ${FAULT_TARGETS.join(', ')}`,
  ],
  faultCount: [
    (value) => value === null || (Number.isInteger(value) && (value as number) > 0),
    'null or a positive integer',
  ],
  faultRules: [
    (value) => Array.isArray(value) && value.every(isFaultRule),
    `a list of { fault: ${FAULT_MODES.filter((mode) => mode !== 'none').join(' | ')}, provider?, account?, count? }`,
  ],
  slowAnswerMs: [
    (value) => typeof value === 'number' && Number.isFinite(value) && value >= 0,
    'a number of milliseconds, 0 or more',
  ],
  profiles: [
    isProfileOverrides,
    `an object { <profile id>: { ${PROFILE_TUNABLES.join(' | ')}: seconds (0 or more) or null } }`,
  ],
};

export class SettingsError extends Error {}

/**
 * Validates a patch and returns the settings it produces. The three fault settings form one unit: a patch
 * that sets `fault` also resets `faultProvider` and `faultCount` unless it gives them, so a fault left
 * over from an earlier test never keeps a stale scope or count.
 */
export function applySettingsPatch(current: SandboxSettings, patch: unknown): SandboxSettings {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new SettingsError('The configuration patch must be a JSON object.');
  }
  const entries = Object.entries(patch).filter(([, value]) => value !== undefined);
  for (const [name, value] of entries) {
    if (!Object.hasOwn(RULES, name)) {
      throw new SettingsError(`Unknown setting "${name}"; known settings: ${Object.keys(RULES).join(', ')}.`);
    }
    const rule = RULES[name as keyof SandboxSettings];
    if (!rule[0](value)) throw new SettingsError(`${name} must be ${rule[1]}, got ${JSON.stringify(value)}.`);
  }
  const changes = Object.fromEntries(entries) as SandboxConfigPatch;
  if (
    changes.fault === undefined &&
    (changes.faultProvider !== undefined || changes.faultCount !== undefined)
  ) {
    throw new SettingsError('faultProvider and faultCount must be set together with fault.');
  }
  const faultReset = changes.fault === undefined ? {} : { faultProvider: null, faultCount: null };
  const profiles =
    changes.profiles === undefined
      ? current.profiles
      : mergeProfileOverrides(current.profiles, changes.profiles);
  return { ...current, ...faultReset, ...changes, profiles };
}

/** A null value removes an override, restoring the documented value. */
function mergeProfileOverrides(
  current: Readonly<Record<string, ProfileTunables>>,
  patch: Readonly<Record<string, ProfileTunables>>,
): Readonly<Record<string, ProfileTunables>> {
  const merged: Record<string, ProfileTunables> = { ...current };
  for (const [id, tunables] of Object.entries(patch)) {
    const next: Record<string, number> = { ...merged[id] };
    for (const [name, seconds] of Object.entries(tunables)) {
      if (seconds === null) delete next[name];
      else next[name] = seconds as number;
    }
    merged[id] = next;
  }
  return merged;
}
