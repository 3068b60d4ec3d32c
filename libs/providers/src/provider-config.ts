import { isIP } from 'node:net';
import { basicCredentialsProblem, type BasicAuthEncoding } from './client-auth';
import {
  catalogueEntry,
  CATALOGUE_IDS,
  REFRESH_TOKEN_ROTATIONS,
  type CatalogueEntry,
  type ConfigField,
  type GrantType,
  type MetadataFields,
  type PkceMethod,
  type RefreshEarning,
  type RefreshTokenRotation,
  type TokenAuthMethod,
} from './catalogue';

export type { GrantType, TokenAuthMethod } from './catalogue';
/** A catalogue id: `bloomerang`, `bloom`, `oauth2`, `google`, … (see `CATALOGUE_IDS`). */
export type ProviderKind = string;

/**
 * The knobs of the generic engine that `provider: "oauth2"` takes from the admin and every other
 * catalogue entry takes from its preset.
 */
export interface ProtocolKnobs {
  pkce?: PkceMethod;
  authorizationParams?: Record<string, string>;
  scopeSeparator?: string;
  refreshParams?: Record<string, string>;
  codeExchangeParams?: Record<string, string>;
  metadata?: Partial<MetadataFields>;
  /** Per-connection values substituted into `{name}` placeholders of the URLs. */
  config?: ConfigField[];
  refreshTokenRotation?: RefreshTokenRotation;
  refreshTokenGraceSeconds?: number;
  /** From issue, when the answer has no refresh_token_expires_in (Bloomerang: 90 days). */
  refreshTokenLifetimeSeconds?: number;
  /** Dies when unused this long; the scheduler uses it in time. */
  refreshTokenIdleSeconds?: number;
  defaultExpiresInSeconds?: number;
  refreshWindowSeconds?: number;
  errorCodes?: Record<string, string>;
  /** token_type values (lowercase) the provider sends for a bearer token (Slack's `bot`). */
  bearerTokenTypes?: string[];
  /** The provider's answer has no token_type (Shopify). */
  tokenTypeOptional?: boolean;
  /** A closed list of scopes: any other is refused, naming it. */
  allowedScopes?: string[];
  /** A non-standard answer field with the refresh token's lifetime (QuickBooks' `x_refresh_token_expires_in`). */
  refreshTokenExpiresInField?: string;
  /** What earns a refresh token (`offline_access`, `access_type=offline`): asked whatever scopes are named. */
  refreshEarning?: RefreshEarning;
}

/** What the admin stores on an integration (its non-secret part). */
interface BaseProviderConfig {
  provider: ProviderKind;
  scopes?: string[];
  authorizationUrl?: string;
  tokenUrl?: string;
  audience?: string;
  environment?: 'sandbox' | 'production';
  authVersion?: 'v2' | 'v1';
  grantType?: GrantType;
  tokenAuthMethod?: TokenAuthMethod;
  /** oauth2 with client_secret_basic: how the id and secret are written; default `form`. */
  basicAuthEncoding?: BasicAuthEncoding;
  extraTokenParams?: Record<string, string>;
}

/** What the admin stores on an integration, with the oauth2 knobs. */
export interface IntegrationProviderConfig extends BaseProviderConfig, ProtocolKnobs {}

/** Settings with every default of the provider kind applied. */
export interface ResolvedProvider {
  kind: ProviderKind;
  grantType: GrantType;
  authorizationUrl?: string;
  tokenUrl: string;
  tokenAuthMethod: TokenAuthMethod;
  /** How client_secret_basic writes the id and secret; Bloomerang `raw`, as it documents. */
  basicAuthEncoding: BasicAuthEncoding;
  scopes: string[];
  /** False for Bloom's legacy v1 endpoint, which takes no scope. */
  sendScopeOnTokenRequest: boolean;
  audience?: string;
  extraTokenParams: Record<string, string>;
  /** Bloomerang's refresh tokens expire after 90 days. */
  refreshTokenLifetimeSeconds?: number;
  /** The catalogue entry's display name ("Google"); absent for the generic kind. */
  name?: string;
  pkce?: PkceMethod;
  /** Joins scopes; `" "` when absent. */
  scopeSeparator?: string;
  authorizationParams?: Record<string, string>;
  codeExchangeParams?: Record<string, string>;
  refreshParams?: Record<string, string>;
  metadata?: MetadataFields;
  configFields?: ConfigField[];
  refreshTokenRotation?: RefreshTokenRotation;
  refreshTokenGraceSeconds?: number;
  refreshTokenIdleSeconds?: number;
  defaultExpiresInSeconds?: number;
  refreshWindowSeconds?: number;
  bearerTokenTypes?: string[];
  tokenTypeOptional?: boolean;
  refreshTokenExpiresInField?: string;
  errorCodes?: Record<string, string>;
  allowedScopes?: string[];
  /** Asked on every authorization, on top of `scopes` and `authorizationParams`. */
  refreshEarning?: RefreshEarning;
  /**
   * An authorization-code grant of this provider comes with a refresh token; one without is a
   * defect of the authorization (a scope or parameter missing), said on the connection.
   */
  expectsRefreshToken?: boolean;
}

/** An integration's settings break a rule of its provider; the message names the field. */
export class ProviderConfigError extends Error {
  override name = 'ProviderConfigError';
}

export const BLOOMERANG_SCOPES = ['Standard', 'StandardEditFinancialData', 'OrgAdmin'] as const;
export const BLOOMERANG_AUTHORIZATION_URL = 'https://crm.bloomerang.co/Authorize';
export const BLOOMERANG_TOKEN_URL = 'https://api.bloomerang.co/v2/oauth/token';
const BLOOMERANG_REFRESH_TOKEN_LIFETIME = 90 * 86_400;

export const BLOOM_TOKEN_URLS = {
  v2: {
    sandbox: 'https://authn.bloom.dev/oauth2/token',
    production: 'https://authn.bloomcredit.io/oauth2/token',
  },
  v1: {
    sandbox: 'https://auth.bloom.dev/oauth/token',
    production: 'https://auth.bloomcredit.io/oauth/token',
  },
} as const;

/** Form parameters the protocol sets itself; extraTokenParams may not override them. */
const RESERVED_PARAMS = new Set([
  'grant_type',
  'client_id',
  'client_secret',
  'code',
  'redirect_uri',
  'refresh_token',
  'scope',
  'code_verifier',
]);

/** Query parameters the authorization URL sets itself; authorizationParams may not override them. */
const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'scope',
  'code_challenge',
  'code_challenge_method',
]);

/** Answer fields that are secrets: never kept as metadata, at any depth. */
export const SECRET_FIELDS = new Set([
  'access_token',
  'refresh_token',
  'id_token',
  'code',
  'state',
  'client_secret',
  'code_verifier',
  'token',
]);

/**
 * Names that say "secret" in any case or spelling (`bot_access_token`, `Access_Token`,
 * `signature`, `client_assertion`…): never allowed in a metadata list, and dropped from inside a
 * kept value at any depth.
 */
const SECRET_LOOKING_NAME = /token|secret|passw|signature|assertion|credential|private|api_?key|verifier/i;

export function isSecretFieldName(name: string): boolean {
  return SECRET_FIELDS.has(name.toLowerCase()) || SECRET_LOOKING_NAME.test(name);
}

export const SCOPE_SEPARATORS = [' ', ','] as const;

const ONLY_FOR: Record<string, ProviderKind> = {
  audience: 'bloom',
  environment: 'bloom',
  authVersion: 'bloom',
  grantType: 'oauth2',
  tokenAuthMethod: 'oauth2',
  basicAuthEncoding: 'oauth2',
  extraTokenParams: 'oauth2',
  pkce: 'oauth2',
  authorizationParams: 'oauth2',
  scopeSeparator: 'oauth2',
  refreshParams: 'oauth2',
  codeExchangeParams: 'oauth2',
  metadata: 'oauth2',
  config: 'oauth2',
  refreshTokenRotation: 'oauth2',
  refreshTokenGraceSeconds: 'oauth2',
  refreshTokenLifetimeSeconds: 'oauth2',
  refreshTokenIdleSeconds: 'oauth2',
  defaultExpiresInSeconds: 'oauth2',
  refreshWindowSeconds: 'oauth2',
  errorCodes: 'oauth2',
  bearerTokenTypes: 'oauth2',
  tokenTypeOptional: 'oauth2',
  refreshTokenExpiresInField: 'oauth2',
  allowedScopes: 'oauth2',
  refreshEarning: 'oauth2',
};

/** Validates an integration's settings against its provider's rules and applies the defaults. */
export function resolveProvider(config: IntegrationProviderConfig): ResolvedProvider {
  if (!catalogueEntry(config.provider)) {
    throw new ProviderConfigError(
      `provider "${String(config.provider)}" is not in the catalogue (GET /admin/providers lists them: ${CATALOGUE_IDS.join(', ')})`,
    );
  }
  for (const [field, kind] of Object.entries(ONLY_FOR)) {
    if (config[field as keyof IntegrationProviderConfig] !== undefined && config.provider !== kind) {
      throw new ProviderConfigError(`${field} applies to provider "${kind}" only`);
    }
  }
  const resolved = resolveKind(config);
  checkEndpoint('tokenUrl', resolved.tokenUrl, resolved.configFields);
  if (resolved.grantType === 'authorization_code') {
    if (!resolved.authorizationUrl)
      throw new ProviderConfigError('authorizationUrl is required for the authorization code flow');
    checkEndpoint('authorizationUrl', resolved.authorizationUrl, resolved.configFields);
  }
  return resolved;
}

function resolveKind(config: IntegrationProviderConfig): ResolvedProvider {
  const scopes = config.scopes ?? [];
  switch (config.provider) {
    case 'bloomerang':
      if (scopes.length > 1) throw new ProviderConfigError('scopes: Bloomerang takes at most one scope');
      if (scopes.some((scope) => !(BLOOMERANG_SCOPES as readonly string[]).includes(scope))) {
        throw new ProviderConfigError(
          `scopes: Bloomerang scope must be one of ${BLOOMERANG_SCOPES.join(', ')}`,
        );
      }
      return {
        kind: 'bloomerang',
        grantType: 'authorization_code',
        authorizationUrl: config.authorizationUrl ?? BLOOMERANG_AUTHORIZATION_URL,
        tokenUrl: config.tokenUrl ?? BLOOMERANG_TOKEN_URL,
        tokenAuthMethod: 'client_secret_basic',
        basicAuthEncoding: 'raw',
        scopes,
        sendScopeOnTokenRequest: false,
        extraTokenParams: {},
        refreshTokenLifetimeSeconds: BLOOMERANG_REFRESH_TOKEN_LIFETIME,
        // A refresh token used twice revokes every token of the account.
        refreshTokenRotation: 'single_use',
        expectsRefreshToken: true,
      };
    case 'bloom': {
      const version = config.authVersion ?? 'v2';
      const environment = config.environment ?? 'sandbox';
      if (!config.audience) throw new ProviderConfigError('audience is required for provider "bloom"');
      if (version === 'v2' && scopes.length === 0) {
        throw new ProviderConfigError(
          'scopes is required for provider "bloom" with authVersion v2 (e.g. ["data-access:all"])',
        );
      }
      if (version === 'v1' && scopes.length > 0) {
        throw new ProviderConfigError(
          'scopes: the legacy Bloom v1 endpoint takes no scope; leave scopes out or use authVersion v2',
        );
      }
      if (config.authorizationUrl)
        throw new ProviderConfigError('authorizationUrl: Bloom uses client credentials only');
      return {
        kind: 'bloom',
        grantType: 'client_credentials',
        tokenUrl: config.tokenUrl ?? BLOOM_TOKEN_URLS[version][environment],
        tokenAuthMethod: 'client_secret_post',
        basicAuthEncoding: 'form', // unused: Bloom takes the credentials in the form body
        scopes,
        sendScopeOnTokenRequest: version === 'v2',
        audience: config.audience,
        extraTokenParams: { audience: config.audience },
      };
    }
    case 'oauth2': {
      if (!config.grantType) throw new ProviderConfigError('grantType is required for provider "oauth2"');
      if (!config.tokenUrl) throw new ProviderConfigError('tokenUrl is required for provider "oauth2"');
      const extra = config.extraTokenParams ?? {};
      const reserved = Object.keys(extra).find((name) => RESERVED_PARAMS.has(name));
      if (reserved) throw new ProviderConfigError(`extraTokenParams may not set "${reserved}"`);
      const tokenAuthMethod = config.tokenAuthMethod ?? 'client_secret_basic';
      if (config.basicAuthEncoding !== undefined && tokenAuthMethod !== 'client_secret_basic') {
        throw new ProviderConfigError(
          'basicAuthEncoding applies to tokenAuthMethod client_secret_basic only',
        );
      }
      return {
        kind: 'oauth2',
        grantType: config.grantType,
        authorizationUrl: config.authorizationUrl,
        tokenUrl: config.tokenUrl,
        tokenAuthMethod,
        basicAuthEncoding: config.basicAuthEncoding ?? 'form',
        scopes,
        sendScopeOnTokenRequest: true,
        extraTokenParams: { ...extra },
        ...checkKnobs(config, scopes),
      };
    }
    default:
      return resolveEntry(catalogueEntry(config.provider) as CatalogueEntry, config);
  }
}

/** A catalogue preset, with the admin's scopes and endpoint overrides. */
function resolveEntry(entry: CatalogueEntry, config: IntegrationProviderConfig): ResolvedProvider {
  const scopes = config.scopes ?? entry.defaultScopes ?? [];
  checkAllowedScopes(entry.name, scopes, entry.allowedScopes);
  const tokenUrl = config.tokenUrl ?? entry.tokenUrl;
  if (!tokenUrl) throw new ProviderConfigError(`tokenUrl is required for provider "${entry.id}"`);
  const refresh = entry.refreshToken;
  return {
    kind: entry.id,
    name: entry.name,
    grantType: entry.grantTypes[0],
    authorizationUrl: config.authorizationUrl ?? entry.authorizationUrl,
    tokenUrl,
    tokenAuthMethod: entry.tokenAuthMethod ?? 'client_secret_basic',
    basicAuthEncoding: entry.basicAuthEncoding ?? 'form',
    scopes,
    sendScopeOnTokenRequest: true,
    extraTokenParams: {},
    pkce: entry.pkce,
    scopeSeparator: entry.scopeSeparator,
    authorizationParams: entry.authorizationParams,
    codeExchangeParams: entry.codeExchangeParams,
    refreshParams: entry.refreshParams,
    metadata: entry.metadata,
    configFields: entry.config,
    refreshTokenRotation: refresh?.rotation,
    refreshTokenGraceSeconds: refresh?.graceSeconds,
    refreshTokenLifetimeSeconds: refresh?.lifetimeSeconds,
    refreshTokenIdleSeconds: refresh?.idleSeconds,
    defaultExpiresInSeconds: entry.defaultExpiresInSeconds,
    refreshWindowSeconds: entry.refreshWindowSeconds,
    bearerTokenTypes: entry.bearerTokenTypes,
    tokenTypeOptional: entry.tokenTypeOptional,
    refreshTokenExpiresInField: entry.refreshTokenExpiresInField,
    errorCodes: entry.errorCodes,
    allowedScopes: entry.allowedScopes,
    refreshEarning: entry.refreshEarning,
    expectsRefreshToken: entry.grantTypes.includes('authorization_code') && entry.refreshToken !== undefined,
  };
}

/** A scope outside a provider's closed list is refused, naming it. */
function checkAllowedScopes(who: string, scopes: string[], allowed: string[] | undefined): void {
  if (!allowed) return;
  const outside = scopes.find((scope) => !allowed.includes(scope));
  if (outside === undefined) return;
  throw new ProviderConfigError(
    allowed.length === 0
      ? `scopes: ${who} takes no scopes ("${outside}" given)`
      : `scopes: "${outside}" is not a scope ${who} allows (${allowed.join(', ')})`,
  );
}

const PARAM_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const CONFIG_NAME = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;

function checkParams(
  field: string,
  params: Record<string, string> | undefined,
  reserved: Set<string>,
): Record<string, string> | undefined {
  if (params === undefined) return undefined;
  const taken = Object.keys(params).find((name) => reserved.has(name));
  if (taken) throw new ProviderConfigError(`${field} may not set "${taken}"`);
  return { ...params };
}

function checkSeconds(field: string, value: number | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw new ProviderConfigError(`${field} must be an integer from 1 to ${max}`);
  return value;
}

/** The oauth2 knobs an admin gave, checked; only those given are set. */
function checkKnobs(config: ProtocolKnobs, scopes: string[]): Partial<ResolvedProvider> {
  const knobs: Partial<ResolvedProvider> = {};
  checkAllowedScopes('this provider', scopes, config.allowedScopes);
  if (config.allowedScopes !== undefined) knobs.allowedScopes = [...config.allowedScopes];
  if (config.pkce !== undefined) {
    if (config.pkce !== 'S256' && config.pkce !== 'none')
      throw new ProviderConfigError('pkce must be "S256" or "none"');
    knobs.pkce = config.pkce;
  }
  if (config.scopeSeparator !== undefined) {
    if (!(SCOPE_SEPARATORS as readonly string[]).includes(config.scopeSeparator))
      throw new ProviderConfigError('scopeSeparator must be " " or ","');
    knobs.scopeSeparator = config.scopeSeparator;
  }
  knobs.authorizationParams = checkParams(
    'authorizationParams',
    config.authorizationParams,
    RESERVED_AUTHORIZATION_PARAMS,
  );
  knobs.refreshParams = checkParams('refreshParams', config.refreshParams, RESERVED_PARAMS);
  knobs.codeExchangeParams = checkParams('codeExchangeParams', config.codeExchangeParams, RESERVED_PARAMS);
  if (config.metadata !== undefined) {
    const metadata: MetadataFields = {
      tokenResponse: [...(config.metadata.tokenResponse ?? [])],
      callback: [...(config.metadata.callback ?? [])],
    };
    for (const [where, names] of Object.entries(metadata)) {
      for (const name of names as string[]) {
        if (!PARAM_NAME.test(name))
          throw new ProviderConfigError(`metadata.${where}: "${name}" is not a field name`);
        if (isSecretFieldName(name))
          throw new ProviderConfigError(`metadata.${where}: "${name}" looks like a secret and is never kept`);
      }
    }
    knobs.metadata = metadata;
  }
  if (config.config !== undefined) {
    const seen = new Set<string>();
    for (const field of config.config) {
      if (!CONFIG_NAME.test(field.name))
        throw new ProviderConfigError(
          `config: "${field.name}" must be a letter then up to 31 letters, digits or "_"`,
        );
      if (seen.has(field.name)) throw new ProviderConfigError(`config: "${field.name}" is named twice`);
      seen.add(field.name);
      try {
        new RegExp(`^(?:${field.pattern})$`, 'u');
      } catch {
        throw new ProviderConfigError(`config.${field.name}.pattern is not a valid regular expression`);
      }
    }
    knobs.configFields = config.config.map((field) => ({ ...field }));
  }
  if (config.refreshTokenRotation !== undefined) {
    if (!(REFRESH_TOKEN_ROTATIONS as readonly string[]).includes(config.refreshTokenRotation))
      throw new ProviderConfigError(
        `refreshTokenRotation must be one of ${REFRESH_TOKEN_ROTATIONS.join(', ')}`,
      );
    knobs.refreshTokenRotation = config.refreshTokenRotation;
  }
  if (config.refreshTokenGraceSeconds !== undefined && config.refreshTokenRotation !== 'grace')
    throw new ProviderConfigError('refreshTokenGraceSeconds applies to refreshTokenRotation "grace" only');
  knobs.refreshTokenGraceSeconds = checkSeconds(
    'refreshTokenGraceSeconds',
    config.refreshTokenGraceSeconds,
    86_400,
  );
  const year = 366 * 86_400;
  knobs.refreshTokenLifetimeSeconds = checkSeconds(
    'refreshTokenLifetimeSeconds',
    config.refreshTokenLifetimeSeconds,
    10 * year,
  );
  knobs.refreshTokenIdleSeconds = checkSeconds(
    'refreshTokenIdleSeconds',
    config.refreshTokenIdleSeconds,
    10 * year,
  );
  knobs.defaultExpiresInSeconds = checkSeconds(
    'defaultExpiresInSeconds',
    config.defaultExpiresInSeconds,
    year,
  );
  knobs.refreshWindowSeconds = checkSeconds('refreshWindowSeconds', config.refreshWindowSeconds, 86_400);
  if (config.errorCodes !== undefined) knobs.errorCodes = { ...config.errorCodes };
  if (config.bearerTokenTypes !== undefined)
    knobs.bearerTokenTypes = config.bearerTokenTypes.map((type) => type.toLowerCase());
  if (config.tokenTypeOptional !== undefined) knobs.tokenTypeOptional = config.tokenTypeOptional;
  if (config.refreshTokenExpiresInField !== undefined) {
    if (!PARAM_NAME.test(config.refreshTokenExpiresInField))
      throw new ProviderConfigError('refreshTokenExpiresInField must be a field name');
    knobs.refreshTokenExpiresInField = config.refreshTokenExpiresInField;
  }
  if (config.refreshEarning !== undefined) knobs.refreshEarning = checkRefreshEarning(config.refreshEarning);
  // An admin who says how the refresh token rotates, or what earns it, expects one.
  if (knobs.refreshEarning !== undefined || knobs.refreshTokenRotation !== undefined)
    knobs.expectsRefreshToken = true;
  for (const key of Object.keys(knobs) as (keyof ResolvedProvider)[]) {
    if (knobs[key] === undefined) delete knobs[key];
  }
  return knobs;
}

const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/;

/** RFC 6749 3.3 scope tokens and authorization parameters the protocol does not set itself. */
function checkRefreshEarning(value: RefreshEarning): RefreshEarning {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ProviderConfigError('refreshEarning must be an object { scopes?, authorizationParams? }');
  const extra = Object.keys(value).find((name) => name !== 'scopes' && name !== 'authorizationParams');
  if (extra !== undefined)
    throw new ProviderConfigError(`refreshEarning.${extra} is not a setting (scopes, authorizationParams)`);
  const checked: RefreshEarning = {};
  if (value.scopes !== undefined) {
    if (!Array.isArray(value.scopes) || value.scopes.length > 20)
      throw new ProviderConfigError('refreshEarning.scopes must be a list of at most 20 scopes');
    const bad = value.scopes.find((scope) => typeof scope !== 'string' || !SCOPE_TOKEN.test(scope));
    if (bad !== undefined)
      throw new ProviderConfigError(`refreshEarning.scopes: ${JSON.stringify(bad)} is not a scope token`);
    checked.scopes = [...value.scopes];
  }
  if (value.authorizationParams !== undefined) {
    const params = value.authorizationParams;
    if (params === null || typeof params !== 'object' || Array.isArray(params))
      throw new ProviderConfigError('refreshEarning.authorizationParams must be an object of strings');
    for (const [name, param] of Object.entries(params)) {
      if (!PARAM_NAME.test(name) || typeof param !== 'string' || param.length > 200)
        throw new ProviderConfigError(`refreshEarning.authorizationParams.${name} must be a short string`);
    }
    checked.authorizationParams = checkParams(
      'refreshEarning.authorizationParams',
      params,
      RESERVED_AUTHORIZATION_PARAMS,
    );
  }
  return checked;
}

/** The scopes an authorization asks: those named (or the defaults) and what earns the refresh token. */
export function authorizationScopes(provider: ResolvedProvider, named?: string[]): string[] {
  const scopes = [...(named ?? provider.scopes)];
  for (const scope of provider.refreshEarning?.scopes ?? []) if (!scopes.includes(scope)) scopes.push(scope);
  return scopes;
}

const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_]{0,31})\}/g;

/**
 * Checks a connection's `config` against its provider's fields: each one present and matching its
 * pattern, nothing else. Returns the values to store (null when the provider takes none).
 */
export function checkConnectionConfig(
  provider: ResolvedProvider,
  values: Record<string, unknown> | null | undefined,
): Record<string, string> | null {
  const fields = provider.configFields ?? [];
  const given = values ?? {};
  const who = provider.name ?? `provider "${provider.kind}"`;
  const unknown = Object.keys(given).find((name) => !fields.some((field) => field.name === name));
  if (unknown !== undefined) {
    throw new ProviderConfigError(
      fields.length === 0
        ? `config.${unknown}: ${who} takes no config`
        : `config.${unknown} is not a setting of ${who} (it takes ${fields.map((field) => field.name).join(', ')})`,
    );
  }
  if (fields.length === 0) return null;
  const checked: Record<string, string> = {};
  for (const field of fields) {
    const value = given[field.name];
    if (value === undefined || value === null || value === '') {
      throw new ProviderConfigError(`config.${field.name} is required for ${who}: ${field.description}`);
    }
    if (
      typeof value !== 'string' ||
      value.length > 255 ||
      !new RegExp(`^(?:${field.pattern})$`, 'u').test(value)
    ) {
      throw new ProviderConfigError(
        `config.${field.name} must match ${field.pattern} (${field.description})`,
      );
    }
    checked[field.name] = value;
  }
  return checked;
}

/**
 * The provider's endpoints for one connection: its config values, URL-encoded, in place of the
 * `{name}` placeholders. The stored values are checked against the current fields and patterns
 * first (a pattern narrowed since the connection was made applies at once); a value that no longer
 * fits, or a placeholder the connection has no value for, is a ProviderConfigError.
 */
export function bindConnectionConfig(
  provider: ResolvedProvider,
  values: Record<string, string> | null | undefined,
): ResolvedProvider {
  checkConnectionConfig(provider, values);
  const derivedFrom = new Map(
    (provider.configFields ?? []).flatMap((field) => (field.derived ? [[field.derived.name, field]] : [])),
  );
  const bind = (field: string, url: string | undefined) =>
    url?.replace(PLACEHOLDER, (_match, name: string) => {
      const source = derivedFrom.get(name);
      if (source?.derived) {
        const text = source.derived.values[values?.[source.name] ?? ''];
        if (text === undefined)
          throw new ProviderConfigError(`the connection has no config.${source.name}, which ${field} needs`);
        return text;
      }
      const value = values?.[name];
      if (value === undefined)
        throw new ProviderConfigError(`the connection has no config.${name}, which ${field} needs`);
      return encodeURIComponent(value);
    });
  const tokenUrl = bind('tokenUrl', provider.tokenUrl) as string;
  const authorizationUrl = bind('authorizationUrl', provider.authorizationUrl);
  if (tokenUrl === provider.tokenUrl && authorizationUrl === provider.authorizationUrl) return provider;
  return { ...provider, tokenUrl, authorizationUrl };
}

/** Checks that the client id can travel the way the resolved provider sends it. */
export function checkClientId(provider: ResolvedProvider, clientId: string): void {
  if (provider.tokenAuthMethod !== 'client_secret_basic') return;
  const problem = basicCredentialsProblem(provider.basicAuthEncoding, clientId);
  if (problem) throw new ProviderConfigError(problem);
}

/** True for localhost, 127.0.0.0/8 and ::1: the only hosts a secret may reach over plain http. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

function checkEndpoint(field: string, template: string, fields: ConfigField[] = []): void {
  let url: URL;
  const value = template.replace(PLACEHOLDER, (_match, name: string) => {
    if (!fields.some((candidate) => candidate.name === name || candidate.derived?.name === name)) {
      throw new ProviderConfigError(
        `${field}: {${name}} is not a config field of this provider${fields.length ? ` (${fields.map((f) => f.name).join(', ')})` : ''}`,
      );
    }
    return 'placeholder';
  });
  try {
    url = new URL(value);
  } catch {
    throw new ProviderConfigError(`${field} must be an absolute URL`);
  }
  if (url.hash) throw new ProviderConfigError(`${field} must not have a fragment`);
  if (url.username || url.password) throw new ProviderConfigError(`${field} must not carry credentials`);
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && isLoopbackUrl(value)) return;
  throw new ProviderConfigError(`${field} must use https (plain http is allowed for loopback hosts only)`);
}
