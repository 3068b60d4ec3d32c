import { Injectable, Logger } from '@nestjs/common';
import * as oauth from 'oauth4webapi';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
} from 'jose';
import { isLoopbackUrl } from '@broker/providers';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { AdminIdentity } from './admin-identity';
import { AdminRole, strongestRole } from './admin-roles';
import { parseRoleMap } from '../config/role-map';

/** Asymmetric signatures only: never `none`, never an HMAC keyed with something public. */
const ALLOWED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
];
const DISCOVERY_TIMEOUT_MS = 5_000;
/** After a failed discovery, how long requests are answered 503 before it is tried again. */
const DISCOVERY_RETRY_MS = 2_000;
const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const CLOCK_TOLERANCE_SECONDS = 30;
/** JOSE header `typ` values of an access token (RFC 9068) or an ID token; anything else (logout, DPoP…) is refused. */
const ACCEPTED_HEADER_TYPES = new Set(['jwt', 'at+jwt', 'application/at+jwt', 'application/jwt']);
/** Keycloak's `typ` claim: `Bearer` (access) and `ID`; not `Refresh`, `Logout`, `Offline`… */
const ACCEPTED_TOKEN_TYPES = new Set(['Bearer', 'ID']);

/** The provider could not be asked (discovery or its JWKS): a 503, never a way in. */
class ProviderUnreachable extends Error {}

/**
 * Verifies the ID or access tokens of the company's OpenID Connect provider: issuer, audience,
 * expiry and an asymmetric signature by a key of the provider's JWKS (found through its discovery
 * metadata, cached; an unknown `kid` fetches the set again, at most every 30 s, so key rotation
 * needs nothing here). Stateless: any replica verifies any signed-in admin.
 *
 * When the provider cannot be reached, keys fetched before keep verifying (past their cache age);
 * a token that needs a key not seen yet is a 503.
 */
@Injectable()
export class OidcVerifier {
  private readonly logger = new Logger(OidcVerifier.name);
  private readonly issuer?: URL;
  private readonly audience?: string;
  private readonly roleMap: ReadonlyMap<string, AdminRole[]>;
  private readonly acceptedClients: ReadonlySet<string>;
  private metadata?: oauth.AuthorizationServer;
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private discovering?: Promise<oauth.AuthorizationServer>;
  private lastFailureAt = 0;

  constructor(private readonly env: BrokerEnvironment) {
    if (env.BROKER_ADMIN_OIDC_ISSUER) this.issuer = new URL(env.BROKER_ADMIN_OIDC_ISSUER);
    this.audience = env.BROKER_ADMIN_OIDC_AUDIENCE ?? env.BROKER_ADMIN_OIDC_CLIENT_ID;
    this.roleMap = parseRoleMap(env.BROKER_ADMIN_OIDC_ROLE_MAP ?? '');
    const accepted = (env.BROKER_ADMIN_OIDC_ACCEPTED_CLIENTS ?? '')
      .split(',')
      .map((client) => client.trim())
      .filter(Boolean);
    this.acceptedClients = new Set(
      accepted.length > 0
        ? accepted
        : env.BROKER_ADMIN_OIDC_CLIENT_ID
          ? [env.BROKER_ADMIN_OIDC_CLIENT_ID]
          : [],
    );
  }

  get enabled(): boolean {
    return this.issuer !== undefined;
  }

  /** The provider's metadata if it was discovered or can be now; undefined otherwise (no throw). */
  async discoveredMetadata(): Promise<oauth.AuthorizationServer | undefined> {
    if (!this.enabled) return undefined;
    return this.discover().catch(() => undefined);
  }

  /** The person behind a provider-signed JWT; 401 when it does not verify, 503 when the provider is away. */
  async verify(jwt: string): Promise<AdminIdentity> {
    if (!this.issuer) throw unauthorized('not a credential of this broker');
    let payload: JWTPayload;
    try {
      const metadata = await this.discover();
      let protectedHeader: { typ?: string };
      ({ payload, protectedHeader } = await jwtVerify(jwt, this.keyResolver(), {
        issuer: metadata.issuer,
        audience: this.audience,
        algorithms: ALLOWED_ALGORITHMS,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      }));
      const refusal = this.clientOrTypeProblem(payload, protectedHeader.typ);
      if (refusal) throw unauthorized(refusal);
    } catch (error) {
      if (error instanceof BrokerError) throw error;
      if (error instanceof ProviderUnreachable) {
        throw new BrokerError(
          'service_unavailable',
          'the admin identity provider is unreachable; try again shortly',
          { 'retry-after': '5' },
        );
      }
      throw unauthorized(rejectionReason(error));
    }
    const email =
      typeof payload.email === 'string' && payload.email.length <= 254 ? payload.email : undefined;
    const claim = this.env.BROKER_ADMIN_OIDC_ROLES_CLAIM;
    return {
      kind: 'oidc',
      actor: `oidc:${payload.sub}`,
      role: strongestRole(this.rolesOf(payload)) ?? null,
      ...(payload[claim] === undefined ? { missingRolesClaim: claim } : {}),
      ...(email ? { email } : {}),
    };
  }

  /**
   * A token issued to another client is not the broker's, even when its audience lists the broker
   * (Keycloak adds the broker client to `aud` of any client's access token when the person has
   * broker roles): `azp`, the client it was issued to, must be an accepted one, and a token with
   * several audiences must say which. A `typ` the IdP set must be an access or ID token's.
   */
  private clientOrTypeProblem(payload: JWTPayload, headerType: string | undefined): string | undefined {
    if (headerType !== undefined && !ACCEPTED_HEADER_TYPES.has(headerType.toLowerCase())) {
      return `the admin token's type "${headerType.slice(0, 40)}" is not an access or ID token`;
    }
    const keycloakType = payload.typ;
    if (
      keycloakType !== undefined &&
      !(typeof keycloakType === 'string' && ACCEPTED_TOKEN_TYPES.has(keycloakType))
    ) {
      return 'the admin token is not an access or ID token (its "typ" claim)';
    }
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    const azp = payload.azp;
    if (azp === undefined) {
      if (audiences.length > 1) return 'the admin token has several audiences and no "azp" naming its client';
      return undefined;
    }
    if (typeof azp !== 'string' || !this.acceptedClients.has(azp)) {
      return 'the admin token was issued to another client ("azp"; BROKER_ADMIN_OIDC_ACCEPTED_CLIENTS lists the accepted ones)';
    }
    return undefined;
  }

  private rolesOf(payload: JWTPayload): AdminRole[] {
    const claim = payload[this.env.BROKER_ADMIN_OIDC_ROLES_CLAIM];
    const groups = Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : [];
    return groups.flatMap((group) => (typeof group === 'string' ? (this.roleMap.get(group) ?? []) : []));
  }

  private discover(): Promise<oauth.AuthorizationServer> {
    if (this.metadata) return Promise.resolve(this.metadata);
    if (Date.now() - this.lastFailureAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(new ProviderUnreachable('discovery failed a moment ago'));
    }
    this.discovering ??= this.fetchMetadata().finally(() => (this.discovering = undefined));
    return this.discovering;
  }

  private async fetchMetadata(): Promise<oauth.AuthorizationServer> {
    const issuer = this.issuer!;
    try {
      const response = await oauth.discoveryRequest(issuer, {
        algorithm: 'oidc',
        signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS),
        // The operator chose the issuer; plain http is for a provider on loopback or in tests.
        [oauth.allowInsecureRequests]: issuer.protocol === 'http:',
      });
      const metadata = await oauth.processDiscoveryResponse(issuer, response);
      if (!metadata.jwks_uri) throw new Error('the provider metadata has no jwks_uri');
      if (new URL(metadata.jwks_uri).protocol !== 'https:' && !isLoopbackUrl(metadata.jwks_uri))
        throw new Error('the provider jwks_uri is not https: its keys would travel in clear text');
      this.jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
        timeoutDuration: DISCOVERY_TIMEOUT_MS,
      });
      this.metadata = metadata;
      return metadata;
    } catch (error) {
      this.lastFailureAt = Date.now();
      this.logger.warn(
        { issuer: issuer.href, reason: (error as Error).message },
        'admin OIDC discovery failed',
      );
      throw new ProviderUnreachable((error as Error).message);
    }
  }

  /**
   * The remote JWKS, falling back to the keys it fetched before while the provider cannot be
   * reached; a key found nowhere while it cannot be reached is ProviderUnreachable (503).
   */
  private keyResolver(): JWTVerifyGetKey {
    const remote = this.jwks!;
    return async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isKeySelectionError(error)) throw error;
        const known = remote.jwks();
        if (known) {
          try {
            return await createLocalJWKSet(known)(header, token);
          } catch (fallbackError) {
            if (!(fallbackError instanceof joseErrors.JWKSNoMatchingKey)) throw fallbackError;
          }
        }
        this.logger.warn({ reason: (error as Error).message }, 'admin OIDC JWKS unreachable');
        throw new ProviderUnreachable('the provider JWKS could not be fetched');
      }
    };
  }
}

/** Errors about the token's key (not about reaching the provider). */
function isKeySelectionError(error: unknown): boolean {
  return (
    error instanceof joseErrors.JWKSNoMatchingKey ||
    error instanceof joseErrors.JWKSMultipleMatchingKeys ||
    error instanceof joseErrors.JOSENotSupported ||
    error instanceof joseErrors.JOSEAlgNotAllowed
  );
}

function unauthorized(message: string): BrokerError {
  return new BrokerError('unauthorized', message, { 'www-authenticate': 'Bearer' });
}

/** What was wrong with a refused token, in words that quote none of it. */
function rejectionReason(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'the admin token has expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'the admin token is from another issuer';
    if (error.claim === 'aud') return 'the admin token is for another audience';
    return `the admin token's "${error.claim}" claim is not acceptable`;
  }
  if (error instanceof joseErrors.JOSEAlgNotAllowed)
    return 'the admin token is not signed with an allowed algorithm';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'the admin token is signed by an unknown key';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'the admin token signature is invalid';
  return 'the admin token is malformed';
}
