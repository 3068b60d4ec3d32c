import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Repository } from 'typeorm';
import { randomUUID } from 'node:crypto';
import {
  authorizationScopes,
  bindConnectionConfig,
  NeedsReauthorizationError,
  ProviderConfigError,
  ProviderError,
  ProviderMisconfiguredError,
  protocolFor,
  ResolvedProvider,
} from '@broker/providers';
import { SecretCipher } from '../security/secret-cipher';
import { generateSecret, hashApiKey } from '@broker/crypto';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { BrokerMetrics } from '../metrics/broker-metrics';
import { IntegrationEntity } from '../integrations/integration.entity';
import { IntegrationsService } from '../integrations/integrations.service';
import { TokenRefresher } from '../tokens/token-refresher';
import { TokenStore } from '../tokens/token-store';
import { ConnectionEntity } from './connection.entity';
import { OAuthStateEntity } from './oauth-state.entity';

/** The providers' authorization codes live 10 minutes; the state (and so the URL) lives as long. */
export const AUTHORIZATION_TTL_MS = 10 * 60_000;

export interface StartedAuthorization {
  authorizationUrl: string;
  authorizationExpiresAt: Date;
}

export interface CallbackParams {
  state?: unknown;
  code?: unknown;
  error?: unknown;
  error_description?: unknown;
  /** Other callback parameters; the provider's entry may keep some as metadata (QuickBooks' realmId). */
  [parameter: string]: unknown;
}

export interface CallbackResult {
  connection: string;
  status: string;
  message: string;
  /** The grant came without the refresh token the provider issues: what was asked, what to change. */
  warning?: string;
}

/**
 * The authorization code flow: a random state (256 bits, stored as a SHA-256 hash, bound to one
 * connection, single-use, expiring with the code) and the callback that consumes it atomically
 * before the code is exchanged, so a replayed callback never reaches the provider.
 */
@Injectable()
export class AuthorizationFlow {
  private readonly logger = new Logger(AuthorizationFlow.name);

  constructor(
    @InjectRepository(OAuthStateEntity) private readonly states: Repository<OAuthStateEntity>,
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    @InjectDataSource() private readonly db: DataSource,
    private readonly integrations: IntegrationsService,
    private readonly refresher: TokenRefresher,
    private readonly store: TokenStore,
    private readonly env: BrokerEnvironment,
    private readonly audit: AuditLog,
    private readonly cipher: SecretCipher,
    private readonly metrics: BrokerMetrics,
  ) {}

  async start(connection: ConnectionEntity, integration: IntegrationEntity): Promise<StartedAuthorization> {
    const runtime = this.integrations.runtime(integration);
    if (runtime.provider.grantType !== 'authorization_code') {
      throw BrokerError.conflict(
        `integration "${integration.key}" uses client credentials: its connections need no authorization`,
      );
    }
    const provider = boundOrReject(runtime.provider, connection);
    const protocol = protocolFor(provider.kind);
    const state = generateSecret(32);
    const pkce = await protocol.newPkce(provider);
    const codeVerifier = pkce?.codeVerifier;
    const redirectUri = this.env.redirectUri;
    const authorizationExpiresAt = new Date(Date.now() + AUTHORIZATION_TTL_MS);
    const authorizationUrl = protocol.authorizationUrl(provider, runtime.client, {
      state,
      redirectUri,
      scopes: connection.requestedScopes ?? undefined,
      codeChallenge: pkce?.codeChallenge,
    });
    const id = randomUUID();
    await this.db.transaction(async (manager) => {
      // A new URL replaces any earlier one still outstanding for this connection.
      await manager.delete(OAuthStateEntity, { connectionId: connection.id, consumedAt: IsNull() });
      await manager.insert(OAuthStateEntity, {
        id,
        connectionId: connection.id,
        stateHash: hashApiKey(state),
        redirectUri,
        codeVerifier: codeVerifier
          ? this.cipher.seal({ table: 'oauth_states', column: 'code_verifier' }, id, codeVerifier)
          : null,
        expiresAt: authorizationExpiresAt,
      });
    });
    return { authorizationUrl, authorizationExpiresAt };
  }

  async complete(params: CallbackParams): Promise<CallbackResult> {
    if (typeof params.state !== 'string' || params.state.length === 0 || params.state.length > 512) {
      throw new BrokerError('invalid_state', 'the callback has no valid state parameter');
    }
    const hasCode = typeof params.code === 'string' && params.code.length > 0 && params.code.length <= 4096;
    const hasError = typeof params.error === 'string' && params.error.length > 0;
    if (!hasCode && !hasError) {
      throw BrokerError.badRequest('the callback has neither a code nor an error parameter');
    }
    const state = await this.consumeState(params.state);
    const connection = await this.connections.findOneBy({ id: state.connectionId });
    if (!connection)
      throw new BrokerError('invalid_state', 'the connection of this authorization was deleted');

    if (hasError) return this.recordRefusal(connection, String(params.error), params.error_description);

    const runtime = await this.integrations.runtimeById(connection.integrationId);
    const codeVerifier = state.codeVerifier
      ? this.cipher.open({ table: 'oauth_states', column: 'code_verifier' }, state.id, state.codeVerifier)
      : undefined;
    let withoutRefreshToken: string | undefined;
    try {
      const provider = bindOrFail(runtime.provider, connection);
      const tokens = await protocolFor(provider.kind).exchangeCode(
        provider,
        runtime.client,
        { code: params.code as string, redirectUri: state.redirectUri, codeVerifier },
        {
          timeoutMs: this.env.BROKER_PROVIDER_TIMEOUT_MS,
          defaultExpiresInSeconds: this.env.BROKER_DEFAULT_EXPIRES_IN,
        },
      );
      const fromCallback = callbackMetadata(provider, params);
      await this.refresher.storeAuthorized(
        runtime,
        connection,
        fromCallback ? { ...tokens, metadata: { ...tokens.metadata, ...fromCallback } } : tokens,
      );
      if (provider.expectsRefreshToken && !tokens.refreshToken) {
        withoutRefreshToken = noRefreshTokenMessage(provider, connection);
        await this.store.writeWarning(connection.id, 'no_refresh_token', withoutRefreshToken);
        this.metrics.grantWithoutRefreshToken(provider.kind);
        this.logger.warn(
          { connection: connection.key, provider: provider.kind },
          'the grant came without a refresh token',
        );
      }
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      return this.recordExchangeFailure(connection, error);
    }
    await this.audit.record({
      action: 'connection.authorized',
      actor: 'oauth-callback',
      targetType: 'connection',
      targetKey: connection.key,
      ...(withoutRefreshToken ? { details: { refreshToken: 'none' } } : {}),
    });
    return {
      connection: connection.key,
      status: 'active',
      message: withoutRefreshToken
        ? `connection "${connection.key}" is active until its access token expires: ${withoutRefreshToken}`
        : `connection "${connection.key}" is active`,
      ...(withoutRefreshToken ? { warning: withoutRefreshToken } : {}),
    };
  }

  /** Marks the state used in one statement; only the caller that flips it may use the code. */
  private async consumeState(state: string): Promise<OAuthStateEntity> {
    const stateHash = hashApiKey(state);
    const [rows]: [OAuthStateEntity[]] = await this.db.query(
      `UPDATE oauth_states SET consumed_at = now()
        WHERE state_hash = $1 AND consumed_at IS NULL AND expires_at > now()
        RETURNING id, connection_id AS "connectionId", redirect_uri AS "redirectUri",
                  code_verifier AS "codeVerifier"`,
      [stateHash],
    );
    if (rows[0]) return rows[0];
    const known = await this.states.findOneBy({ stateHash });
    if (!known)
      throw new BrokerError('invalid_state', 'unknown state: this callback was not started by this broker');
    if (known.consumedAt) {
      throw new BrokerError('invalid_state', 'this authorization was already used; start a new one');
    }
    throw new BrokerError('invalid_state', 'this authorization expired (10 minutes); start a new one');
  }

  private async recordRefusal(
    connection: ConnectionEntity,
    error: string,
    description: unknown,
  ): Promise<never> {
    const code = error.slice(0, 32).replace(/[^\w.-]/g, '_');
    const detail = typeof description === 'string' ? `: ${description.slice(0, 200)}` : '';
    const message = `the authorization was not granted (${code}${detail})`;
    const keepsTokens = connection.status === 'active' && connection.accessToken !== null;
    await this.store.writeFailure(connection.id, null, {
      status: keepsTokens ? 'active' : 'error',
      code,
      message,
      clearTokens: false,
    });
    await this.audit.record({
      action: 'connection.authorized',
      actor: 'oauth-callback',
      targetType: 'connection',
      targetKey: connection.key,
      outcome: 'refused',
      details: { error: code },
    });
    throw BrokerError.badRequest(`connection "${connection.key}": ${message}`);
  }

  private async recordExchangeFailure(connection: ConnectionEntity, error: ProviderError): Promise<never> {
    const keepsTokens = connection.status === 'active' && connection.accessToken !== null;
    const misconfigured = error instanceof ProviderMisconfiguredError;
    const message = `the authorization code could not be exchanged: ${error.message}`;
    this.logger.warn({ connection: connection.key, code: error.code }, message);
    await this.store.writeFailure(connection.id, null, {
      status: keepsTokens ? connection.status : 'error',
      code: misconfigured ? 'misconfigured' : error.code,
      message,
      clearTokens: false,
    });
    if (error instanceof NeedsReauthorizationError || misconfigured) {
      throw BrokerError.badRequest(`connection "${connection.key}": ${message}`);
    }
    throw new BrokerError('provider_unavailable', `connection "${connection.key}": ${message}`);
  }
}

/**
 * Why a grant came without a refresh token, as far as the broker can tell: what the authorization
 * asked, and what the admin can change. No secret: scopes and parameter names only.
 */
function noRefreshTokenMessage(provider: ResolvedProvider, connection: ConnectionEntity): string {
  const scopes = authorizationScopes(provider, connection.requestedScopes ?? undefined);
  const params = { ...provider.authorizationParams, ...provider.refreshEarning?.authorizationParams };
  const asked = [
    `scopes ${scopes.length ? scopes.map((scope) => `"${scope}"`).join(', ') : '(none)'}`,
    ...Object.entries(params).map(([name, value]) => `${name}=${value}`),
  ].join('; ');
  const who = provider.name ?? `the provider`;
  const earning = provider.refreshEarning;
  const hint = earning
    ? `${who} issues one for ${[
        ...(earning.scopes ?? []).map((scope) => `the scope "${scope}"`),
        ...Object.entries(earning.authorizationParams ?? {}).map(([name, value]) => `${name}=${value}`),
      ].join(
        ' with ',
      )}, which was asked: check that the app registered with ${who} is allowed it (and that the account consented), then authorize again`
    : `check the app's settings at ${who} (offline access, refresh token rotation) and the integration's scopes, then authorize again`;
  return `the grant came without a refresh token (asked: ${asked}); the connection stops when its access token expires. ${hint}`;
}

/** The provider's endpoints for this connection (its config in the URL placeholders); a 400 when it lacks a value. */
function boundOrReject(provider: ResolvedProvider, connection: ConnectionEntity): ResolvedProvider {
  try {
    return bindConnectionConfig(provider, connection.config);
  } catch (error) {
    if (error instanceof ProviderConfigError)
      throw BrokerError.badRequest(`connection "${connection.key}": ${error.message}`);
    throw error;
  }
}

/** As `boundOrReject`, for a call whose failure is recorded on the connection. */
export function bindOrFail(provider: ResolvedProvider, connection: ConnectionEntity): ResolvedProvider {
  try {
    return bindConnectionConfig(provider, connection.config);
  } catch (error) {
    if (error instanceof ProviderConfigError) throw new ProviderMisconfiguredError(error.message);
    throw error;
  }
}

/** The callback parameters the provider keeps as metadata (short strings only), or undefined. */
function callbackMetadata(
  provider: ResolvedProvider,
  params: CallbackParams,
): Record<string, string> | undefined {
  const names = provider.metadata?.callback ?? [];
  if (names.length === 0) return undefined;
  const kept: Record<string, string> = {};
  for (const name of names) {
    const value = params[name];
    if (typeof value === 'string' && value.length > 0 && value.length <= 1000) kept[name] = value;
  }
  return kept;
}
