import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource, In, Repository } from 'typeorm';
import { BrokerEnvironment } from '../config/environment';
import { BrokerError } from '../common/broker-error';
import { AuditLog } from '../audit/audit-log';
import { IntegrationEntity } from '../model/integration.entity';
import {
  notBeforeRefreshWindow,
  planNextRefresh,
  planWithRefreshTokenLifetime,
} from '../tokens/refresh-plan';
import { PlannedRefresh, RefreshQueue } from '../scheduler/refresh-queue';
import { TableStatistics } from './table-statistics';
import { ConcurrencyLimiter } from '../tokens/concurrency-limiter';
import { TokenRefresher } from '../tokens/token-refresher';
import { ImportedConnection, TokenStore } from '../tokens/token-store';
import { ConnectionEntity } from '../model/connection.entity';
import { connectionProvider } from './connection-provider';
import { CreateConnectionDto, ImportResultStatus, ImportResultView } from './connection.dto';
import { checkImportItem, hasUsableAccessToken } from './import-rules';

/**
 * A connection imported without a usable access token is refreshed by the import itself. Should
 * this process stop before that, the scheduler refreshes it after this delay; long enough that
 * the import's own refresh has always finished first.
 */
const FIRST_REFRESH_SAFETY_DELAY_MS = 5 * 60_000;

interface PlannedImport {
  index: number;
  row: ImportedConnection;
  /** Whether the import refreshes it now (no usable access token came with it). */
  refreshNow: boolean;
}

/**
 * Brings in connections authorized elsewhere, with their refresh tokens. Each is stored `active`
 * in one row (tokens sealed like any other write); when no usable access token came with it, its
 * first refresh goes through the single-flight refresher at once, so a dead refresh token shows
 * as `needs_reauthorization` now rather than at the first read. A key that exists is left alone.
 */
@Injectable()
export class ConnectionImporter {
  private readonly logger = new Logger(ConnectionImporter.name);
  /**
   * Import refreshes at once per integration: twice the refresher's upstream limit, so the
   * database work of one refresh overlaps the provider call of another while no lease waits long.
   */
  private readonly limiter: ConcurrencyLimiter;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @InjectRepository(IntegrationEntity) private readonly integrationRows: Repository<IntegrationEntity>,
    private readonly store: TokenStore,
    private readonly refresher: TokenRefresher,
    private readonly queue: RefreshQueue,
    private readonly audit: AuditLog,
    private readonly statistics: TableStatistics,
    env: BrokerEnvironment,
  ) {
    this.limiter = new ConcurrencyLimiter(2 * env.BROKER_INTEGRATION_CONCURRENCY);
  }

  /**
   * `POST /admin/connections` with a refresh token (fields already validated): stores and
   * activates it, or refuses with a 400 for a wrong integration or a 409 for a key that exists.
   */
  async importOne(dto: CreateConnectionDto & { refreshToken: string }, actor: string): Promise<void> {
    const integrations = await this.integrationsByKey([dto.integration]);
    const planned = this.plan(0, dto, integrations, Date.now());
    if ('problem' in planned) throw BrokerError.badRequest(planned.problem);
    const inserted = await this.store.insertImported([planned.row]);
    if (!inserted.has(planned.row.id)) throw BrokerError.conflict(`connection "${dto.key}" already exists`);
    await this.activate([planned]);
    const [result] = await this.outcomes([planned]);
    await this.audit.record({
      action: 'connection.import',
      actor,
      targetType: 'connection',
      targetKey: dto.key,
      // A single import either stands (`active`) or was refused by its first refresh.
      outcome: result.status === 'active' ? 'ok' : (result.status as 'needs_reauthorization' | 'error'),
      details: { integration: dto.integration, count: 1 },
    });
  }

  /** `POST /admin/connections/import`: one result per item, in order. */
  async importMany(items: unknown[], actor: string): Promise<ImportResultView[]> {
    const now = Date.now();
    const results: ImportResultView[] = new Array(items.length);
    const checked = items.map((item) => checkImportItem(item, now));
    const integrations = await this.integrationsByKey(
      checked.flatMap((item) => (item.ok ? [item.dto.integration] : [])),
    );
    const firstIndexOfKey = new Map<string, number>();
    const planned: PlannedImport[] = [];
    checked.forEach((item, index) => {
      if (!item.ok) {
        results[index] = { key: item.key, status: 'invalid', error: item.problems.join('; ') };
        return;
      }
      const { key } = item.dto;
      const first = firstIndexOfKey.get(key);
      if (first !== undefined) {
        results[index] = {
          key,
          status: 'invalid',
          error: `key "${key}" appears twice in this import (first at item ${first}); nothing written for this one`,
        };
        return;
      }
      firstIndexOfKey.set(key, index);
      const plan = this.plan(index, item.dto, integrations, now);
      if ('problem' in plan) results[index] = { key, status: 'invalid', error: plan.problem };
      else planned.push(plan);
    });

    const inserted = await this.store.insertImported(planned.map((plan) => plan.row));
    this.statistics.rowsAdded(inserted.size);
    const created = planned.filter((plan) => inserted.has(plan.row.id));
    for (const plan of planned) {
      if (!inserted.has(plan.row.id)) {
        results[plan.index] = {
          key: plan.row.key,
          status: 'exists',
          error: `connection "${plan.row.key}" already exists; left as it is`,
        };
      }
    }
    await this.activate(created);
    const outcomes = await this.outcomes(created);
    created.forEach((plan, i) => (results[plan.index] = outcomes[i]));

    const counts: Record<ImportResultStatus, number> = {
      active: 0,
      needs_reauthorization: 0,
      error: 0,
      exists: 0,
      invalid: 0,
    };
    for (const result of results) counts[result.status] += 1;
    await this.audit.record({
      action: 'connection.import',
      actor,
      targetType: 'connection',
      outcome: counts.active === items.length ? 'ok' : 'partial',
      details: { count: items.length, ...counts },
    });
    return results;
  }

  private plan(
    index: number,
    dto: CreateConnectionDto & { refreshToken: string },
    integrations: Map<string, IntegrationEntity>,
    now: number,
  ): PlannedImport | { problem: string } {
    const integration = integrations.get(dto.integration);
    if (!integration) return { problem: `integration "${dto.integration}" does not exist` };
    let grantType: string;
    let config: Record<string, string> | null;
    let refreshWindowSeconds: number | undefined;
    try {
      const checked = connectionProvider(integration, dto.scopes, dto.config);
      grantType = checked.provider.grantType;
      config = checked.config;
      refreshWindowSeconds = checked.provider.refreshWindowSeconds;
    } catch (error) {
      // Refused here, an item becomes `invalid` with the reason; nothing is written for it.
      if (error instanceof BrokerError) return { problem: error.message };
      throw error;
    }
    if (grantType !== 'authorization_code') {
      return {
        problem: `refreshToken: integration "${integration.key}" uses client credentials, which have no refresh token to import; create the connection without tokens`,
      };
    }
    const refreshTokenExpiresAt = dto.refreshTokenExpiresAt ? new Date(dto.refreshTokenExpiresAt) : null;
    const usable = hasUsableAccessToken(dto, now);
    const expiresAt = dto.expiresAt ? new Date(dto.expiresAt) : null;
    let nextRefreshAt: Date;
    if (usable && expiresAt) {
      const expiresIn = (expiresAt.getTime() - now) / 1000;
      nextRefreshAt = planWithRefreshTokenLifetime(
        planNextRefresh(now, expiresIn),
        now,
        refreshTokenExpiresAt,
      );
      // A provider that refuses early refreshes (Exact Online) is asked no sooner than it accepts.
      if (refreshWindowSeconds !== undefined)
        nextRefreshAt = notBeforeRefreshWindow(nextRefreshAt, now, expiresIn, refreshWindowSeconds);
    } else {
      nextRefreshAt = new Date(now + FIRST_REFRESH_SAFETY_DELAY_MS);
    }
    return {
      index,
      refreshNow: !usable,
      row: {
        id: randomUUID(),
        key: dto.key,
        integrationId: integration.id,
        requestedScopes: dto.scopes ?? null,
        config,
        refreshToken: dto.refreshToken,
        accessToken: dto.accessToken ?? null,
        expiresAt,
        scope: dto.scope ?? null,
        refreshTokenExpiresAt,
        nextRefreshAt,
      },
    };
  }

  /**
   * Schedules connections that came with a usable access token like any other (queued now when
   * due within the horizon; the sweep brings the rest later), and refreshes the others once now:
   * through the refresher, at most the per-integration limit at once.
   */
  private async activate(created: PlannedImport[]): Promise<void> {
    const scheduled: PlannedRefresh[] = created
      .filter((plan) => !plan.refreshNow && plan.row.nextRefreshAt)
      .map((plan) => ({ connectionId: plan.row.id, tokenVersion: 1, runAt: plan.row.nextRefreshAt! }));
    await this.queue.scheduleWithinHorizon(scheduled);
    await Promise.all(
      created
        .filter((plan) => plan.refreshNow)
        .map((plan) =>
          this.limiter.run(plan.row.integrationId, async () => {
            try {
              await this.refresher.refresh(
                plan.row.id,
                { reason: 'initial', minValiditySeconds: 0 },
                plan.row.key,
              );
            } catch (error) {
              // A refused or failed refresh is recorded on the connection; its result shows it.
              if (!(error instanceof BrokerError)) throw error;
            }
          }),
        ),
    );
  }

  /** Each created connection's status after its import, read back from Postgres. */
  private async outcomes(created: PlannedImport[]): Promise<ImportResultView[]> {
    if (created.length === 0) return [];
    const rows: Pick<ConnectionEntity, 'id' | 'status' | 'lastError'>[] = await this.db.query(
      `SELECT id, status, last_error AS "lastError" FROM connections WHERE id = ANY($1::uuid[])`,
      [created.map((plan) => plan.row.id)],
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    return created.map((plan): ImportResultView => {
      const row = byId.get(plan.row.id);
      if (!row) return { key: plan.row.key, status: 'error', error: 'deleted during the import' };
      const status = row.status as ImportResultStatus;
      return row.lastError && status !== 'active'
        ? { key: plan.row.key, status, error: row.lastError }
        : { key: plan.row.key, status };
    });
  }

  private async integrationsByKey(keys: string[]): Promise<Map<string, IntegrationEntity>> {
    const unique = [...new Set(keys)];
    if (unique.length === 0) return new Map();
    const rows = await this.integrationRows.findBy({ key: In(unique) });
    return new Map(rows.map((row) => [row.key, row]));
  }
}
