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
import { Keyring, KeyringConfigError } from '@broker/crypto';
import { parseRoleMap } from '../admin-identities/role-map';

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

  /** How long a refresh lease is held before another replica may take over a crashed holder. */
  @Transform(toInteger)
  @IsInt()
  @Min(5)
  @Max(600)
  BROKER_REFRESH_LEASE_SECONDS = 30;

  /** Scheduled refreshes running at once in one worker process. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  BROKER_WORKER_CONCURRENCY = 20;

  /** Upstream token calls at once per integration from one process, to protect the provider. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  BROKER_INTEGRATION_CONCURRENCY = 5;

  @Transform(toInteger)
  @IsInt()
  @Min(5)
  BROKER_RECONCILE_INTERVAL_SECONDS = 60;

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

  /** Where connection events are POSTed, HMAC-signed; unset, no events are sent. */
  @IsOptional()
  @IsUrl({ protocols: ['http', 'https'], require_tld: false, require_protocol: true })
  BROKER_WEBHOOK_URL?: string;

  /** The HMAC-SHA256 key of the `X-Broker-Signature` header; required with BROKER_WEBHOOK_URL. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  BROKER_WEBHOOK_SECRET?: string;

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
  if (env.serviceAccountsEnabled && !env.BROKER_SA_ISSUER) {
    throw new EnvironmentError('BROKER_SA_ISSUER is required with BROKER_SA_JWKS_URL or BROKER_SA_JWKS_FILE');
  }
  if (env.BROKER_WEBHOOK_URL && !env.BROKER_WEBHOOK_SECRET) {
    throw new EnvironmentError('BROKER_WEBHOOK_SECRET is required with BROKER_WEBHOOK_URL');
  }
  if (Boolean(env.BROKER_ADMIN_OIDC_ISSUER) !== Boolean(env.BROKER_ADMIN_OIDC_CLIENT_ID)) {
    throw new EnvironmentError(
      'BROKER_ADMIN_OIDC_ISSUER and BROKER_ADMIN_OIDC_CLIENT_ID are required together',
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
