import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Max,
  Min,
  MinLength,
  validateSync,
  ValidationError,
} from 'class-validator';
import { isIP } from 'node:net';
import { Keyring, KeyringConfigError } from '@broker/crypto';
import { isLoopbackUrl } from '@broker/providers';

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address or CIDR as proxy-addr reads it (which throws at start-up on anything else). */
function isAddressOrCidr(entry: string): boolean {
  if (PROXY_NAMES.includes(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}
import { parseRoleMap } from './role-map';

export const BROKER_ROLES = ['all', 'api', 'worker'] as const;
export type BrokerRole = (typeof BROKER_ROLES)[number];

const toBoolean = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const normalized = value.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(normalized)) return true;
  if (['false', '0', 'no', 'off'].includes(normalized)) return false;
  return value;
};
const toInteger = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every setting of the broker, read from the environment once at boot. A missing or malformed
 * value stops the process with one line naming the variable (see `validateEnvironment`).
 * Property names are the variable names, so an error message is the variable itself.
 */
export class BrokerEnvironment {
  @IsUrl({ protocols: ['postgres', 'postgresql'], require_tld: false, require_protocol: true })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/broker';

  @IsUrl({ protocols: ['redis', 'rediss'], require_tld: false, require_protocol: true })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** `keyId:base64-of-32-bytes`, comma-separated; the first encrypts, all decrypt. Parsed by the keyring. */
  @IsString()
  @MinLength(1)
  BROKER_ENCRYPTION_KEYS!: string;

  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  BROKER_ADMIN_TOKEN?: string;

  /** People sign in to the admin API through this OpenID Connect provider (its issuer URL). */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BROKER_ADMIN_OIDC_ISSUER?: string;

  /** The broker's (public) client at that provider, used by Swagger UI's sign-in with PKCE. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  BROKER_ADMIN_OIDC_CLIENT_ID?: string;

  /** The audience the provider's tokens must carry; default the client id (an ID token's `aud`). */
  @IsOptional()
  @IsString()
  @MinLength(1)
  BROKER_ADMIN_OIDC_AUDIENCE?: string;

  /** The token claim that lists the person's groups. */
  @IsString()
  @MinLength(1)
  BROKER_ADMIN_OIDC_ROLES_CLAIM = 'groups';

  /** The scopes Swagger UI asks for at sign-in (space-separated); the roles claim must come with them. */
  @IsString()
  @MinLength(1)
  BROKER_ADMIN_OIDC_SCOPES = 'openid email profile';

  /**
   * The clients (comma-separated) whose tokens the admin API accepts; default the client id. A
   * token whose `azp` names another client is refused, as is one with several audiences and no `azp`.
   */
  @IsOptional()
  @IsString()
  BROKER_ADMIN_OIDC_ACCEPTED_CLIENTS?: string;

  /** `role=group,...` (roles `admin`, `operator`, `viewer`); a person in no mapped group gets 403. */
  @IsOptional()
  @IsString()
  BROKER_ADMIN_OIDC_ROLE_MAP?: string;

  /** Whether this process serves `/admin/*` at all; a sidecar turns it off and needs no admin token. */
  @Transform(toBoolean)
  @IsBoolean()
  BROKER_ADMIN_API = true;

  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BROKER_PUBLIC_URL = 'http://localhost:3000';

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  BROKER_HOST = '0.0.0.0';

  @IsIn(BROKER_ROLES)
  BROKER_ROLE: BrokerRole = 'all';

  @Transform(toBoolean)
  @IsBoolean()
  BROKER_AUTO_MIGRATE = true;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** Upper bound of one call to a provider's token endpoint, headers and body together. */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(120_000)
  BROKER_PROVIDER_TIMEOUT_MS = 10_000;

  /** Lifetime assumed when a provider omits `expires_in`. */
  @Transform(toInteger)
  @IsInt()
  @Min(30)
  BROKER_DEFAULT_EXPIRES_IN = 3600;

  /**
   * How long a refresh lease is held before another replica may take over a crashed holder. Once a
   * request is sent, its lease covers the provider timeout and a margin (docs/exactly-once.md).
   */
  @Transform(toInteger)
  @IsInt()
  @Min(5)
  @Max(600)
  BROKER_REFRESH_LEASE_SECONDS = 30;

  /**
   * Least time between two upstream refresh attempts of one connection that readers can cause
   * (failed attempts count): within it a still-valid token is answered as it is, whatever
   * `minValidity` asks, and with none left after a failed attempt a read gets 503 with Retry-After
   * (0 turns it off).
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3600)
  BROKER_MIN_REFRESH_INTERVAL_SECONDS = 30;

  /** Scheduled refreshes running at once in one worker process. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  BROKER_WORKER_CONCURRENCY = 20;

  /**
   * Access tokens one replica keeps in memory for the token API, least recently read leaving
   * first; a read past them costs one primary-key read of Postgres. About 1 KB each with JWT
   * access tokens.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  BROKER_TOKEN_CACHE_MAX_ENTRIES = 50_000;

  /** Upstream token calls at once per integration from one process, to protect the provider. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  BROKER_INTEGRATION_CONCURRENCY = 5;

  /**
   * How often the horizon sweep runs (and the housekeeping with it: gauges, expired states, old
   * audit rows). Every tenth sweep re-reads the whole horizon, which also re-queues failed jobs.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(5)
  BROKER_RECONCILE_INTERVAL_SECONDS = 60;

  /**
   * Redis holds only the refreshes due within this many seconds; the rest of the schedule is
   * `next_refresh_at` in Postgres, read by the sweep as it comes within reach. Keep it several
   * sweep intervals long: a flushed Redis is rebuilt by the next sweep.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(10)
  @Max(86_400)
  BROKER_SCHEDULE_HORIZON_SECONDS = 600;

  /**
   * `refreshAhead: when_read`: a connection read within this many seconds is refreshed ahead;
   * one read longer ago is left to refresh when it is next read (its refresh token still kept alive).
   */
  @Transform(toInteger)
  @IsInt()
  @Min(60)
  BROKER_READ_WINDOW_SECONDS = 3600;

  /** How long SIGTERM waits for requests and refreshes in flight before the process exits anyway. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  BROKER_SHUTDOWN_GRACE_MS = 10_000;

  /** Failed authentications per source address and minute before it is answered 429 for a minute. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  BROKER_AUTH_FAILURE_LIMIT = 20;

  /**
   * Proxies whose `X-Forwarded-For` names the client (comma-separated addresses or CIDRs, or
   * proxy-addr's names `loopback`, `linklocal`, `uniquelocal`); none by default: the socket's peer
   * is the client. Behind an ingress, the failed-auth throttle must see clients, not the ingress.
   */
  @IsOptional()
  @IsString()
  BROKER_TRUSTED_PROXIES?: string;

  /** Provider endpoints in private, link-local or other special-purpose ranges are refused unless this is true. */
  @Transform(toBoolean)
  @IsBoolean()
  BROKER_ALLOW_PRIVATE_PROVIDER_HOSTS = false;

  /**
   * Provider endpoints on loopback (127.0.0.0/8, ::1, localhost) are refused unless this is true:
   * sidecars (Envoy's admin port, Linkerd's) listen there. The sandbox, tests and the first look turn it on.
   */
  @Transform(toBoolean)
  @IsBoolean()
  BROKER_ALLOW_LOOPBACK_PROVIDER_HOSTS = false;

  /** Days of audit events kept; older ones are pruned by the reconciler. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  BROKER_AUDIT_RETENTION_DAYS = 90;

  /** Kubernetes ServiceAccount callers: the cluster's JWKS as a URL… */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BROKER_SA_JWKS_URL?: string;

  /** …or as a file (e.g. the output of `kubectl get --raw /openid/v1/jwks`). */
  @IsOptional()
  @IsString()
  BROKER_SA_JWKS_FILE?: string;

  /** The ServiceAccount token issuer (`kubectl get --raw /.well-known/openid-configuration`). */
  @IsOptional()
  @IsString()
  BROKER_SA_ISSUER?: string;

  /** The audience the pods' projected tokens are minted for. */
  @IsString()
  @MinLength(1)
  BROKER_SA_AUDIENCE = 'token-broker';

  /** ServiceAccount tokens issued (`iat`) longer ago than this many seconds are refused. */
  @Transform(toInteger)
  @IsInt()
  @Min(60)
  BROKER_SA_MAX_TOKEN_AGE = 86_400;

  /** Where connection events are POSTed, HMAC-signed; unset, no events are sent. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BROKER_WEBHOOK_URL?: string;

  /** The HMAC-SHA256 key of the `X-Broker-Signature` header; required with BROKER_WEBHOOK_URL. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  BROKER_WEBHOOK_SECRET?: string;

  /** Fastify's `trustProxy`: the trusted proxies, or false to believe no forwarded header. */
  get trustedProxies(): string[] | false {
    const list = (this.BROKER_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    return list.length > 0 ? list : false;
  }

  get adminSignInEnabled(): boolean {
    return Boolean(this.BROKER_ADMIN_OIDC_ISSUER);
  }

  get serviceAccountsEnabled(): boolean {
    return Boolean(this.BROKER_SA_JWKS_URL || this.BROKER_SA_JWKS_FILE);
  }

  get servesApi(): boolean {
    return this.BROKER_ROLE !== 'worker';
  }

  get runsWorker(): boolean {
    return this.BROKER_ROLE !== 'api';
  }

  get adminApiEnabled(): boolean {
    return this.servesApi && this.BROKER_ADMIN_API;
  }

  get redirectUri(): string {
    return `${this.BROKER_PUBLIC_URL.replace(/\/+$/, '')}/oauth/callback`;
  }
}

export class EnvironmentError extends Error {}

function describeProblem(error: ValidationError): string {
  const constraints = Object.values(error.constraints ?? {});
  const reason = constraints[0] ?? 'is invalid';
  return reason.startsWith(error.property) ? reason : `${error.property} ${reason}`;
}

/** Reads the variables the broker knows; unknown variables are ignored. Throws one line per problem. */
export function validateEnvironment(raw: Record<string, unknown>): BrokerEnvironment {
  const defined = Object.fromEntries(
    Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(BrokerEnvironment, defined, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: false });
  if (errors.length > 0) {
    const first = errors[0];
    const missing = raw[first.property] === undefined || raw[first.property] === '';
    throw new EnvironmentError(missing ? `${first.property} is required` : describeProblem(first));
  }
  try {
    Keyring.parse(env.BROKER_ENCRYPTION_KEYS);
  } catch (error) {
    if (error instanceof KeyringConfigError) throw new EnvironmentError(error.message);
    throw error;
  }
  const badProxy = (env.trustedProxies || []).find((entry) => !isAddressOrCidr(entry));
  if (badProxy !== undefined) {
    throw new EnvironmentError(
      `BROKER_TRUSTED_PROXIES must be comma-separated IP addresses or CIDRs (e.g. 10.0.0.0/8,fd00::/8), got "${badProxy}"`,
    );
  }
  if (env.serviceAccountsEnabled && !env.BROKER_SA_ISSUER) {
    throw new EnvironmentError('BROKER_SA_ISSUER is required with BROKER_SA_JWKS_URL or BROKER_SA_JWKS_FILE');
  }
  if (env.BROKER_WEBHOOK_URL?.startsWith('http:') && !isLoopbackUrl(env.BROKER_WEBHOOK_URL)) {
    throw new EnvironmentError(
      'BROKER_WEBHOOK_URL must use https (plain http is allowed for loopback hosts only)',
    );
  }
  if (env.BROKER_WEBHOOK_URL && !env.BROKER_WEBHOOK_SECRET) {
    throw new EnvironmentError('BROKER_WEBHOOK_SECRET is required with BROKER_WEBHOOK_URL');
  }
  if (Boolean(env.BROKER_ADMIN_OIDC_ISSUER) !== Boolean(env.BROKER_ADMIN_OIDC_CLIENT_ID)) {
    throw new EnvironmentError(
      'BROKER_ADMIN_OIDC_ISSUER and BROKER_ADMIN_OIDC_CLIENT_ID are required together',
    );
  }
  if (env.BROKER_ADMIN_OIDC_ISSUER?.startsWith('http:') && !isLoopbackUrl(env.BROKER_ADMIN_OIDC_ISSUER)) {
    throw new EnvironmentError(
      'BROKER_ADMIN_OIDC_ISSUER must use https (plain http is allowed for loopback hosts only): the signing keys would travel in clear text',
    );
  }
  try {
    parseRoleMap(env.BROKER_ADMIN_OIDC_ROLE_MAP ?? '');
  } catch (error) {
    throw new EnvironmentError(`BROKER_ADMIN_OIDC_ROLE_MAP: ${(error as Error).message}`);
  }
  if (env.adminApiEnabled && !env.BROKER_ADMIN_TOKEN && !env.adminSignInEnabled) {
    throw new EnvironmentError(
      'BROKER_ADMIN_TOKEN is required when the admin API is on and BROKER_ADMIN_OIDC_ISSUER is not set (set BROKER_ADMIN_API=false to serve tokens only)',
    );
  }
  return env;
}
