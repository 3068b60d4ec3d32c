import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EntityManager, Repository } from 'typeorm';
import {
  checkClientId,
  ClientCredentials,
  IntegrationProviderConfig,
  ProviderConfigError,
  resolveProvider,
  ResolvedProvider,
} from '@broker/providers';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError, isUniqueViolation } from '../common/broker-error';
import { SecretCipher } from '../security/secret-cipher';
import { ConnectionEntity } from '../model/connection.entity';
import { AuditLog } from '../audit/audit-log';
import type { AdminRole } from '../admin-identities/admin-roles';
import { IntegrationEntity, StoredProviderConfig } from '../model/integration.entity';
import { CONNECTION_CHANNEL } from '../event-bus/connection-events';
import {
  checkEndpointHosts,
  checkSecretForMoves,
  connectionTokenHost,
  endpointMoves,
} from './endpoint-changes';
import {
  CreateIntegrationDto,
  IntegrationSettingsDto,
  IntegrationView,
  UpdateIntegrationDto,
} from './integration.dto';

const SETTING_FIELDS = [
  'scopes',
  'authorizationUrl',
  'tokenUrl',
  'audience',
  'environment',
  'authVersion',
  'grantType',
  'tokenAuthMethod',
  'basicAuthEncoding',
  'extraTokenParams',
  'pkce',
  'authorizationParams',
  'scopeSeparator',
  'refreshParams',
  'codeExchangeParams',
  'metadata',
  'config',
  'refreshTokenRotation',
  'refreshTokenGraceSeconds',
  'refreshTokenLifetimeSeconds',
  'refreshTokenIdleSeconds',
  'defaultExpiresInSeconds',
  'refreshWindowSeconds',
  'errorCodes',
  'bearerTokenTypes',
  'tokenTypeOptional',
  'refreshTokenExpiresInField',
  'allowedScopes',
  'refreshEarning',
] as const satisfies readonly (keyof IntegrationSettingsDto)[];

/** Free-form parameters an integration sends: shown to `admin` only. */
const ADMIN_ONLY_FIELDS = [
  'extraTokenParams',
  'refreshParams',
  'codeExchangeParams',
  'authorizationParams',
] as const satisfies readonly (keyof IntegrationView)[];

/** An integration ready to talk to its provider: resolved endpoints and the opened secret. */
export interface IntegrationRuntime {
  entity: IntegrationEntity;
  provider: ResolvedProvider;
  client: ClientCredentials;
}

@Injectable()
export class IntegrationsService {
  constructor(
    @InjectRepository(IntegrationEntity) private readonly integrations: Repository<IntegrationEntity>,
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    private readonly cipher: SecretCipher,
    private readonly env: BrokerEnvironment,
    private readonly audit: AuditLog,
  ) {}

  async create(dto: CreateIntegrationDto, actor: string): Promise<IntegrationView> {
    const config = pickSettings(dto);
    await checkEndpointHosts(resolveOrReject({ provider: dto.provider, ...config }, dto.clientId));
    const id = randomUUID();
    const entity = this.integrations.create({
      id,
      key: dto.key,
      provider: dto.provider,
      clientId: dto.clientId,
      clientSecret: this.cipher.seal(
        { table: 'integrations', column: 'client_secret' },
        id,
        dto.clientSecret,
      ),
      config,
      refreshAhead: dto.refreshAhead ?? 'always',
    });
    try {
      await this.integrations.insert(entity);
    } catch (error) {
      if (isUniqueViolation(error)) throw BrokerError.conflict(`integration "${dto.key}" already exists`);
      throw error;
    }
    await this.audit.record({
      action: 'integration.create',
      actor,
      targetType: 'integration',
      targetKey: dto.key,
    });
    return this.view(await this.integrations.findOneByOrFail({ id }));
  }

  async list(reader: AdminRole | null): Promise<IntegrationView[]> {
    const rows = await this.integrations.find({ order: { key: 'ASC' } });
    return rows.map((row) => this.view(row, reader));
  }

  async get(key: string, reader: AdminRole | null): Promise<IntegrationView> {
    return this.view(await this.findEntity(key), reader);
  }

  async update(key: string, dto: UpdateIntegrationDto, actor: string): Promise<IntegrationView> {
    const entity = await this.findEntity(key);
    const config: StoredProviderConfig = { ...entity.config, ...pickSettings(dto) };
    const resolved = resolveOrReject(
      { provider: entity.provider, ...config },
      dto.clientId ?? entity.clientId,
    );
    const before = resolveProvider({ provider: entity.provider, ...entity.config });
    const moves = endpointMoves(before, resolved);
    const secret = checkSecretForMoves(
      moves,
      dto.clientSecret,
      () => this.runtime(entity).client.clientSecret,
    );
    await checkEndpointHosts(resolved);
    const changes: Partial<IntegrationEntity> = { config };
    if (dto.clientId !== undefined) changes.clientId = dto.clientId;
    if (dto.refreshAhead !== undefined) changes.refreshAhead = dto.refreshAhead;
    if (dto.clientSecret !== undefined) {
      changes.clientSecret = this.cipher.seal(
        { table: 'integrations', column: 'client_secret' },
        entity.id,
        dto.clientSecret,
      );
    }
    const stranded = await this.connections.manager.transaction(async (manager) => {
      await manager.update(IntegrationEntity, { id: entity.id }, changes);
      return moves.tokenUrl || moves.configFields
        ? this.strandRefreshTokens(manager, entity.id, before, resolved)
        : [];
    });
    await this.audit.record({
      action: 'integration.update',
      actor,
      targetType: 'integration',
      targetKey: key,
      details: {
        fields: Object.keys(dto).filter((field) => dto[field as keyof UpdateIntegrationDto] !== undefined),
        ...(Object.keys(moves).length > 0 ? { endpoints: moves } : {}),
        ...(secret ? { clientSecret: secret } : {}),
        ...(stranded.length > 0
          ? {
              // The connections whose refresh token was dropped, not sent to the new token host.
              needsReauthorization: {
                count: stranded.length,
                connections: stranded.slice(0, 100).map((row) => row.key),
              },
            }
          : {}),
      },
    });
    return this.view(await this.integrations.findOneByOrFail({ id: entity.id }));
  }

  /**
   * A refresh token belongs to the authorization server that issued it: when a connection's token
   * host changes (the URL, the config fields or patterns, or its stored config no longer fitting),
   * its refresh token is dropped rather than sent to the new host, and the account must authorize
   * again. The NOTIFY tells every replica's cache.
   */
  private async strandRefreshTokens(
    manager: EntityManager,
    integrationId: string,
    before: ResolvedProvider,
    after: ResolvedProvider,
  ): Promise<{ key: string; from: string | null; to: string | null }[]> {
    // Locked: a refresh that leases one of these rows from now on waits for this transaction and
    // then finds no refresh token.
    const rows: { id: string; key: string; config: Record<string, string> | null; leased: boolean }[] =
      await manager.query(
        `SELECT id, key, config, COALESCE(lease_expires_at > now(), false) AS leased FROM connections
          WHERE integration_id = $1 AND refresh_token IS NOT NULL FOR UPDATE`,
        [integrationId],
      );
    const stranded: { id: string; key: string; from: string | null; to: string | null }[] = [];
    for (const row of rows) {
      const from = connectionTokenHost(before, row.config);
      const to = connectionTokenHost(after, row.config);
      if (from === null || to === null || from !== to) stranded.push({ id: row.id, key: row.key, from, to });
    }
    if (stranded.length === 0) return [];
    // A refresh that leased a row before the lock holds its refresh token already and reads the
    // integration after: it could send it to the new host. The move waits until none is in flight.
    const inFlight = rows.find((row) => row.leased && stranded.some((moved) => moved.id === row.id));
    if (inFlight) {
      throw BrokerError.conflict(
        `a refresh of connection "${inFlight.key}" is in flight; move the token endpoint again in a few seconds`,
      );
    }
    await manager.query(
      `WITH written AS (
         UPDATE connections
            SET status = 'needs_reauthorization', last_error = $2, last_error_code = 'token_host_changed',
                access_token = NULL, refresh_token = NULL, next_refresh_at = NULL,
                token_version = token_version + 1, updated_at = now(),
                lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE id = ANY($1::uuid[])
          RETURNING id, key, token_version)
       SELECT pg_notify('${CONNECTION_CHANNEL}', json_build_object('id', written.id, 'key', written.key,
                'v', written.token_version, 'kind', 'status')::text) FROM written`,
      [
        stranded.map((row) => row.id),
        "the integration's token host changed: a refresh token is only sent to the host that issued it, so the account must authorize again",
      ],
    );
    return stranded.map(({ key, from, to }) => ({ key, from, to }));
  }

  async remove(key: string, actor: string): Promise<void> {
    const entity = await this.findEntity(key);
    const inUse = await this.connections.countBy({ integrationId: entity.id });
    if (inUse > 0) {
      throw BrokerError.conflict(
        `integration "${key}" still has ${inUse} connection(s); delete them first so no account is cut off by surprise`,
      );
    }
    await this.integrations.delete({ id: entity.id });
    await this.audit.record({
      action: 'integration.delete',
      actor,
      targetType: 'integration',
      targetKey: key,
    });
  }

  async findEntity(key: string): Promise<IntegrationEntity> {
    const entity = await this.integrations.findOneBy({ key });
    if (!entity) throw BrokerError.notFound('integration', key);
    return entity;
  }

  /** Resolves endpoints and opens the secret, for a call to the provider. */
  runtime(entity: IntegrationEntity): IntegrationRuntime {
    return {
      entity,
      provider: resolveProvider({ provider: entity.provider, ...entity.config }),
      client: {
        clientId: entity.clientId,
        clientSecret: this.cipher.open(
          { table: 'integrations', column: 'client_secret' },
          entity.id,
          entity.clientSecret,
        ),
      },
    };
  }

  async runtimeById(id: string): Promise<IntegrationRuntime> {
    return this.runtime(await this.integrations.findOneByOrFail({ id }));
  }

  /**
   * What an admin route answers about an integration. The free-form parameter maps may hold an
   * assertion or a key, so only `admin` (who may set them) sees them; operators and viewers do not.
   */
  view(entity: IntegrationEntity, reader: AdminRole | null = 'admin'): IntegrationView {
    const resolved = resolveProvider({ provider: entity.provider, ...entity.config });
    const { config } = entity;
    const view: IntegrationView = {
      key: entity.key,
      provider: entity.provider,
      clientId: entity.clientId,
      hasClientSecret: Boolean(entity.clientSecret),
      grantType: resolved.grantType,
      scopes: resolved.scopes,
      authorizationUrl: resolved.authorizationUrl,
      tokenUrl: resolved.tokenUrl,
      tokenAuthMethod: resolved.tokenAuthMethod,
      basicAuthEncoding:
        resolved.tokenAuthMethod === 'client_secret_basic' ? resolved.basicAuthEncoding : undefined,
      audience: resolved.audience,
      environment: config.environment,
      authVersion: config.authVersion,
      extraTokenParams: config.extraTokenParams,
      pkce: resolved.pkce,
      scopeSeparator: resolved.scopeSeparator,
      authorizationParams: resolved.authorizationParams,
      refreshParams: resolved.refreshParams,
      codeExchangeParams: resolved.codeExchangeParams,
      metadata: resolved.metadata,
      config: resolved.configFields,
      refreshTokenRotation: resolved.refreshTokenRotation,
      refreshTokenGraceSeconds: resolved.refreshTokenGraceSeconds,
      refreshTokenLifetimeSeconds: resolved.refreshTokenLifetimeSeconds,
      refreshTokenIdleSeconds: resolved.refreshTokenIdleSeconds,
      defaultExpiresInSeconds: resolved.defaultExpiresInSeconds,
      refreshWindowSeconds: resolved.refreshWindowSeconds,
      errorCodes: resolved.errorCodes,
      bearerTokenTypes: resolved.bearerTokenTypes,
      tokenTypeOptional: resolved.tokenTypeOptional,
      refreshTokenExpiresInField: resolved.refreshTokenExpiresInField,
      allowedScopes: resolved.allowedScopes,
      refreshEarning: resolved.refreshEarning,
      refreshAhead: entity.refreshAhead,
      redirectUri: resolved.grantType === 'authorization_code' ? this.env.redirectUri : undefined,
      createdAt: entity.createdAt,
      updatedAt: entity.updatedAt,
    };
    if (reader !== 'admin') {
      for (const field of ADMIN_ONLY_FIELDS) delete view[field];
    }
    return view;
  }
}

function pickSettings(dto: IntegrationSettingsDto): StoredProviderConfig {
  const config: Record<string, unknown> = {};
  for (const field of SETTING_FIELDS) {
    // Plain JSON (the nested DTOs are class instances after validation).
    if (dto[field] !== undefined) config[field] = JSON.parse(JSON.stringify(dto[field]));
  }
  return config as StoredProviderConfig;
}

function resolveOrReject(config: IntegrationProviderConfig, clientId: string): ResolvedProvider {
  try {
    const resolved = resolveProvider(config);
    checkClientId(resolved, clientId);
    return resolved;
  } catch (error) {
    if (error instanceof ProviderConfigError) throw BrokerError.badRequest(error.message);
    throw error;
  }
}
