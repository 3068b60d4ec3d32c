import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { FindOptionsWhere, MoreThan, Repository } from 'typeorm';
import { BrokerError, isUniqueViolation } from '../common/broker-error';
import { AuditLog, AuditOutcome } from '../audit/audit-log';
import { IntegrationEntity } from '../model/integration.entity';
import { RefreshQueue } from '../scheduler/refresh-queue';
import { TokenCache } from '../tokens/token-cache';
import { RefreshFailedError, TokenRefresher } from '../tokens/token-refresher';
import { TokenStore } from '../tokens/token-store';
import { AuthorizationFlow } from './authorization-flow';
import { connectionProvider } from './connection-provider';
import { ConnectionImporter } from './connection-importer';
import { importFieldProblems } from './import-rules';
import { ConnectionEntity } from '../model/connection.entity';
import {
  ConnectionView,
  CreateConnectionDto,
  ImportConnectionsView,
  ListConnectionsQuery,
} from './connection.dto';

/** Connection records and their lifecycle; tokens themselves move only through the refresher. */
@Injectable()
export class ConnectionsService {
  constructor(
    @InjectRepository(ConnectionEntity) private readonly connections: Repository<ConnectionEntity>,
    @InjectRepository(IntegrationEntity) private readonly integrationRows: Repository<IntegrationEntity>,
    private readonly authorization: AuthorizationFlow,
    private readonly refresher: TokenRefresher,
    private readonly store: TokenStore,
    private readonly cache: TokenCache,
    private readonly queue: RefreshQueue,
    private readonly audit: AuditLog,
    private readonly importer: ConnectionImporter,
  ) {}

  async create(dto: CreateConnectionDto, actor: string): Promise<ConnectionView> {
    const problems = importFieldProblems(dto, Date.now());
    if (problems.length > 0) throw BrokerError.badRequest(problems.join('; '));
    const { refreshToken } = dto;
    if (refreshToken !== undefined) {
      await this.importer.importOne({ ...dto, refreshToken }, actor);
      return this.get(dto.key);
    }
    const integration = await this.integrationRows.findOneBy({ key: dto.integration });
    if (!integration) throw BrokerError.badRequest(`integration "${dto.integration}" does not exist`);
    const { provider, config } = connectionProvider(integration, dto.scopes, dto.config);
    const codeFlow = provider.grantType === 'authorization_code';
    const id = randomUUID();
    try {
      await this.connections.insert({
        id,
        key: dto.key,
        integrationId: integration.id,
        // A client-credentials connection is active from the start; its first token is fetched now,
        // and next_refresh_at lets the reconciler fetch it should this process stop before that.
        status: codeFlow ? 'pending_authorization' : 'active',
        requestedScopes: dto.scopes ?? null,
        config,
        nextRefreshAt: codeFlow ? null : new Date(),
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw BrokerError.conflict(`connection "${dto.key}" already exists`);
      throw error;
    }
    await this.audit.record({
      action: 'connection.create',
      actor,
      targetType: 'connection',
      targetKey: dto.key,
      details: { integration: dto.integration },
    });
    if (codeFlow) {
      const started = await this.authorization.start(await this.entity(dto.key), integration);
      return { ...(await this.get(dto.key)), ...started };
    }
    try {
      await this.refresher.refresh(id, { reason: 'initial', minValiditySeconds: 0 });
    } catch (error) {
      if (!(error instanceof RefreshFailedError)) throw error;
      // The failure is recorded on the connection (status "error", lastError) and shown below.
    }
    return this.get(dto.key);
  }

  /** Bulk import: each item on its own, one result per item in order. */
  async importMany(items: unknown[], actor: string): Promise<ImportConnectionsView> {
    return { results: await this.importer.importMany(items, actor) };
  }

  async list(query: ListConnectionsQuery): Promise<ConnectionView[]> {
    const where: FindOptionsWhere<ConnectionEntity> = {};
    if (query.status) where.status = query.status;
    if (query.integration) {
      const integration = await this.integrationRows.findOneBy({ key: query.integration });
      if (!integration) return [];
      where.integrationId = integration.id;
    }
    if (query.after !== undefined) where.key = MoreThan(query.after);
    const rows = await this.connections.find({
      where,
      // By key with a cursor: an index range (connections_*_key_idx) however deep the page.
      order: query.after !== undefined ? { key: 'ASC' } : { createdAt: 'ASC', key: 'ASC' },
      take: query.limit ?? 100,
      skip: query.offset ?? 0,
    });
    const keys = await this.integrationKeys(rows);
    return rows.map((row) => view(row, keys.get(row.integrationId) ?? ''));
  }

  async get(key: string): Promise<ConnectionView> {
    const row = await this.entity(key);
    const integration = await this.integrationRows.findOneByOrFail({ id: row.integrationId });
    return view(row, integration.key);
  }

  /** A new authorization URL for an existing connection (re-authorization). */
  async authorize(key: string, actor: string): Promise<ConnectionView> {
    const row = await this.entity(key);
    const integration = await this.integrationRows.findOneByOrFail({ id: row.integrationId });
    const started = await this.authorization.start(row, integration);
    await this.audit.record({
      action: 'connection.authorize',
      actor,
      targetType: 'connection',
      targetKey: key,
    });
    return { ...view(row, integration.key), ...started };
  }

  /** Refreshes now, through the same single-flight as the token API. */
  async refresh(key: string, actor: string): Promise<ConnectionView> {
    const row = await this.entity(key);
    let outcome: AuditOutcome = 'ok';
    try {
      await this.refresher.refresh(row.id, { reason: 'admin', minValiditySeconds: 0, force: true });
    } catch (error) {
      outcome = error instanceof BrokerError ? error.code : 'error';
      throw error;
    } finally {
      await this.audit.record({
        action: 'connection.refresh',
        actor,
        targetType: 'connection',
        targetKey: key,
        outcome,
      });
    }
    return this.get(key);
  }

  async remove(key: string, actor: string): Promise<void> {
    const row = await this.entity(key);
    await this.connections.delete({ id: row.id });
    this.cache.evict(key);
    await this.store.announce({ id: row.id, key, v: row.tokenVersion + 1, kind: 'deleted' });
    await this.queue.unschedule(row.id, row.tokenVersion);
    await this.audit.record({ action: 'connection.delete', actor, targetType: 'connection', targetKey: key });
  }

  private async entity(key: string): Promise<ConnectionEntity> {
    const row = await this.connections.findOneBy({ key });
    if (!row) throw BrokerError.notFound('connection', key);
    return row;
  }

  private async integrationKeys(rows: ConnectionEntity[]): Promise<Map<string, string>> {
    const ids = [...new Set(rows.map((row) => row.integrationId))];
    if (ids.length === 0) return new Map();
    const integrations = await this.integrationRows.find({
      where: ids.map((id) => ({ id })),
      select: { id: true, key: true },
    });
    return new Map(integrations.map((integration) => [integration.id, integration.key]));
  }
}

export function view(row: ConnectionEntity, integrationKey: string): ConnectionView {
  return {
    key: row.key,
    integration: integrationKey,
    status: row.status,
    scope: row.scope,
    expiresAt: row.expiresAt,
    lastRefreshedAt: row.lastRefreshedAt,
    nextRefreshAt: row.nextRefreshAt,
    lastError: row.lastError,
    lastErrorCode: row.lastErrorCode,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt,
    config: row.config ?? undefined,
    metadata: row.metadata ?? undefined,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
