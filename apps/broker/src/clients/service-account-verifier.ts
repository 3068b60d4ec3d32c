import { Injectable, Logger } from '@nestjs/common';
import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  JSONWebKeySet,
  jwtVerify,
  JWTVerifyGetKey,
} from 'jose';
import { BrokerEnvironment } from '../config/environment';
import { VerifiedTokenCache } from './verified-token-cache';

const SUBJECT = /^system:serviceaccount:([a-z0-9]([-a-z0-9]*[a-z0-9])?):([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/;
/** How soon an unknown key id may fetch (or read) the JWKS again: rotations are picked up quickly, floods are not. */
const JWKS_RELOAD_COOLDOWN_MS = 5_000;
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512', 'PS256'];
/**
 * Verified ServiceAccount tokens remembered per replica: a projected token lives about an hour and
 * each pod (each sidecar agent) presents the same one until the kubelet rotates it, so this covers
 * the pods of a large cluster; beyond it the least recently used are verified again.
 */
export const SA_TOKEN_CACHE_ENTRIES = 10_000;

/**
 * Verifies a pod's projected Kubernetes ServiceAccount token against the cluster's JWKS (a URL,
 * cached and refetched on an unknown key id, or a file, re-read on an unknown key id), with
 * issuer, audience and expiry checks, and names the account as `namespace/name`. A verified token
 * is remembered until its `exp` (`VerifiedTokenCache`), so a pod calling again with the same token
 * pays a SHA-256, not a signature check; whether the account is still bound to a client is looked
 * up on every call all the same (`ClientsService`).
 */
@Injectable()
export class ServiceAccountVerifier {
  private readonly logger = new Logger(ServiceAccountVerifier.name);
  private readonly getKey: JWTVerifyGetKey | null;
  private fileKeys: JWTVerifyGetKey | null = null;
  private fileLoadedAt = 0;

  constructor(
    private readonly env: BrokerEnvironment,
    private readonly verified: VerifiedTokenCache<string>,
  ) {
    if (env.BROKER_SA_JWKS_URL) {
      this.getKey = createRemoteJWKSet(new URL(env.BROKER_SA_JWKS_URL), {
        cooldownDuration: JWKS_RELOAD_COOLDOWN_MS,
        cacheMaxAge: 10 * 60_000,
      });
    } else if (env.BROKER_SA_JWKS_FILE) {
      this.getKey = (header, token) => this.fromFile(header, token);
    } else {
      this.getKey = null;
    }
  }

  get enabled(): boolean {
    return this.getKey !== null;
  }

  /**
   * `namespace/name` of a token verified before and unexpired, with the token's expiry, without
   * verifying it again; else undefined.
   */
  remembered(token: string): { serviceAccount: string; expiresAtMs: number } | undefined {
    const entry = this.getKey ? this.verified.entry(this.verified.keyOf(token)) : undefined;
    return entry && { serviceAccount: entry.value, expiresAtMs: entry.expiresAtMs };
  }

  /** `namespace/name` of a valid token, or null for any invalid one (the reason goes to the debug log). */
  async verify(token: string): Promise<string | null> {
    if (!this.getKey) return null;
    const key = this.verified.keyOf(token);
    const known = this.verified.get(key);
    if (known !== undefined) return known;
    try {
      const { payload } = await jwtVerify(token, this.getKey, {
        issuer: this.env.BROKER_SA_ISSUER,
        audience: this.env.BROKER_SA_AUDIENCE,
        algorithms: ALGORITHMS,
        requiredClaims: ['exp', 'sub', 'iat'],
        // A token stolen from a pod is useful only this long after it was issued, whatever its exp.
        maxTokenAge: this.env.BROKER_SA_MAX_TOKEN_AGE,
        currentDate: new Date(this.verified.now()),
      });
      const match = SUBJECT.exec(payload.sub ?? '');
      if (!match) return null;
      const account = `${match[1]}/${match[3]}`;
      const tooOldAtMs = (payload.iat! + this.env.BROKER_SA_MAX_TOKEN_AGE) * 1000;
      this.verified.set(key, account, Math.min(payload.exp! * 1000, tooOldAtMs));
      return account;
    } catch (error) {
      this.logger.debug({ reason: (error as Error).message }, 'ServiceAccount token refused');
      return null;
    }
  }

  private async fromFile(...args: Parameters<JWTVerifyGetKey>) {
    if (!this.fileKeys) await this.loadFile();
    try {
      return await this.fileKeys!(...args);
    } catch (error) {
      // A key rotated in the cluster: read the file again, at most every 5 s.
      if (
        !(error instanceof errors.JWKSNoMatchingKey) ||
        Date.now() - this.fileLoadedAt < JWKS_RELOAD_COOLDOWN_MS
      ) {
        throw error;
      }
      await this.loadFile();
      return this.fileKeys!(...args);
    }
  }

  private async loadFile(): Promise<void> {
    const jwks = JSON.parse(await readFile(this.env.BROKER_SA_JWKS_FILE!, 'utf8')) as JSONWebKeySet;
    this.fileKeys = createLocalJWKSet(jwks);
    this.fileLoadedAt = Date.now();
  }
}
