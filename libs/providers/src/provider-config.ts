import { isIP } from 'node:net';
import { basicCredentialsProblem, type BasicAuthEncoding } from './client-auth';

export type ProviderKind = 'bloomerang' | 'bloom' | 'oauth2';
export type GrantType = 'authorization_code' | 'client_credentials';
export type TokenAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** What the admin stores on an integration (its non-secret part). */
export interface IntegrationProviderConfig {
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

const ONLY_FOR: Record<string, ProviderKind> = {
  audience: 'bloom',
  environment: 'bloom',
  authVersion: 'bloom',
  grantType: 'oauth2',
  tokenAuthMethod: 'oauth2',
  basicAuthEncoding: 'oauth2',
  extraTokenParams: 'oauth2',
};

/** Validates an integration's settings against its provider's rules and applies the defaults. */
export function resolveProvider(config: IntegrationProviderConfig): ResolvedProvider {
  for (const [field, kind] of Object.entries(ONLY_FOR)) {
    if (config[field as keyof IntegrationProviderConfig] !== undefined && config.provider !== kind) {
      throw new ProviderConfigError(`${field} applies to provider "${kind}" only`);
    }
  }
  const resolved = resolveKind(config);
  checkEndpoint('tokenUrl', resolved.tokenUrl);
  if (resolved.grantType === 'authorization_code') {
    if (!resolved.authorizationUrl)
      throw new ProviderConfigError('authorizationUrl is required for the authorization code flow');
    checkEndpoint('authorizationUrl', resolved.authorizationUrl);
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
      };
    }
    default:
      throw new ProviderConfigError(`provider must be one of bloomerang, bloom, oauth2`);
  }
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

function checkEndpoint(field: string, value: string): void {
  let url: URL;
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
