import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { TokenSet } from '@broker/providers';
import { SecretCipher } from '../security/secret-cipher';
import { ConnectionEntity } from '../connections/connection.entity';
import type { ConnectionStatus } from '../connections/connection-status';
import { CONNECTION_CHANNEL, ConnectionChange } from './connection-events';

/** A usable access token, as the token API and the per-replica cache hold it. */
export interface AccessToken {
  connectionId: string;
  connectionKey: string;
  accessToken: string;
  tokenType: string;
  expiresAtMs: number;
  scope: string | null;
  tokenVersion: number;
  status: ConnectionStatus;
  /** The provider's kept fields (`instance_url`…); null when its entry keeps none. */
  metadata: Record<string, unknown> | null;
}

/** A connection row with its token columns opened, for a refresh. */
export interface OpenedConnection {
  row: ConnectionEntity;
  accessToken: string | null;
  refreshToken: string | null;
}

export interface Lease {
  connectionId: string;
  leaseToken: string;
}

export interface TokenWrite {
  tokens: TokenSet;
  /** Kept when the provider did not rotate the refresh token. */
  previousRefreshToken: string | null;
  nextRefreshAt: Date;
  refreshTokenLifetimeSeconds?: number;
  /** When set (null included), the refresh token's expiry to store, instead of one derived from the lifetime. */
  refreshTokenExpiresAt?: Date | null;
  /** Merged into the stored metadata (fields the answer has replace the old ones); undefined leaves it. */
  metadata?: Record<string, unknown>;
}

export interface FailureWrite {
  status: ConnectionStatus;
  code: string;
  message: string;
  clearTokens: boolean;
  /**
   * The outcome of the refresh is known (an answer came, or the request provably never left): the
   * write-ahead record is cleared. Left false, the next holder finds it and acts by the provider's
   * rotation rule. Default true.
   */
  settled?: boolean;
  /** A refresh token the provider rotated in an otherwise unusable answer: stored with the failure. */
  rotatedRefreshToken?: { refreshToken: string; expiresAt: Date | null };
  /** No refresh before this (the provider's Retry-After). */
  notBefore?: Date | null;
}

/** A connection brought in with tokens issued elsewhere (an import), before it is stored. */
export interface ImportedConnection {
  id: string;
  key: string;
  integrationId: string;
  requestedScopes: string[] | null;
  /** The entry's per-connection values, checked. */
  config?: Record<string, string> | null;
  refreshToken: string;
  accessToken: string | null;
  expiresAt: Date | null;
  scope: string | null;
  refreshTokenExpiresAt: Date | null;
  nextRefreshAt: Date | null;
}

/** Rows per INSERT of an import: 12 parameters each, far below Postgres's 65,535. */
const IMPORT_INSERT_CHUNK = 500;

const COLUMNS = `id, key, integration_id AS "integrationId", status, requested_scopes AS "requestedScopes", config, metadata,
  scope, access_token AS "accessToken", refresh_token AS "refreshToken", token_type AS "tokenType",
  expires_at AS "expiresAt", refresh_token_expires_at AS "refreshTokenExpiresAt", token_version AS "tokenVersion",
  last_refreshed_at AS "lastRefreshedAt", next_refresh_at AS "nextRefreshAt", last_error AS "lastError",
  last_error_code AS "lastErrorCode", consecutive_failures AS "consecutiveFailures", lease_token AS "leaseToken",
  lease_owner AS "leaseOwner", lease_expires_at AS "leaseExpiresAt", created_at AS "createdAt", updated_at AS "updatedAt",
  refresh_in_flight_fence AS "refreshInFlightFence", refresh_in_flight_at AS "refreshInFlightAt",
  refresh_in_flight_digest AS "refreshInFlightDigest", last_attempted_at AS "lastAttemptedAt",
  refresh_not_before AS "refreshNotBefore"`;

/** The SET clause that clears the write-ahead refresh record. */
const SETTLED = `refresh_in_flight_fence = NULL, refresh_in_flight_at = NULL, refresh_in_flight_digest = NULL`;

/** A digest of a refresh token, for the write-ahead record: says which token was sent, never what it is. */
export function refreshTokenDigest(refreshToken: string): string {
  return createHash('sha256').update(refreshToken).digest('hex');
}

/**
 * Every read and write of a connection's tokens. Postgres is the truth: a refresh holds a lease
 * on the row (owner, fencing token, expiry), and the token write only lands while that lease is
 * still the one on the row. Each token or status change is announced with NOTIFY in the same
 * transaction, so other replicas' caches move on when it commits.
 */
@Injectable()
export class TokenStore {
  /** Identifies this process in `lease_owner`, for operators reading the table. */
  readonly owner = `${process.env.HOSTNAME ?? 'broker'}:${process.pid}:${randomUUID().slice(0, 8)}`;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly cipher: SecretCipher,
  ) {}

  async findByKey(key: string): Promise<ConnectionEntity | null> {
    const rows: ConnectionEntity[] = await this.db.query(
      `SELECT ${COLUMNS} FROM connections WHERE key = $1`,
      [key],
    );
    return rows[0] ?? null;
  }

  async findById(id: string): Promise<ConnectionEntity | null> {
    const rows: ConnectionEntity[] = await this.db.query(`SELECT ${COLUMNS} FROM connections WHERE id = $1`, [
      id,
    ]);
    return rows[0] ?? null;
  }

  /**
   * Takes the refresh lease unless a live one is held elsewhere. Returns the row as it is now, so
   * the holder starts from the latest stored refresh token, whoever wrote it.
   */
  async tryAcquireLease(
    connectionId: string,
    leaseSeconds: number,
  ): Promise<{ lease: Lease; row: ConnectionEntity } | null> {
    const leaseToken = randomUUID();
    const [rows]: [ConnectionEntity[]] = await this.db.query(
      `UPDATE connections
          SET lease_token = $2, lease_owner = $3, lease_expires_at = now() + make_interval(secs => $4)
        WHERE id = $1 AND (lease_token IS NULL OR lease_expires_at < now())
        RETURNING ${COLUMNS}`,
      [connectionId, leaseToken, this.owner, leaseSeconds],
    );
    const row = rows[0];
    return row ? { lease: { connectionId, leaseToken }, row } : null;
  }

  /**
   * Called when the request is about to leave (its concurrency slot granted): checks the fence
   * (the lease is still this holder's, whether or not its time ran out: nobody took it), extends
   * it to cover the provider call, and writes the write-ahead record (fence, time, digest of the
   * refresh token sent) and the attempt's time, in one statement. False: the lease was taken over
   * or released meanwhile, and nothing may be sent.
   */
  async beginRefresh(lease: Lease, leaseSeconds: number, refreshToken: string | null): Promise<boolean> {
    const [, count]: [unknown, number] = await this.db.query(
      `UPDATE connections
          SET lease_expires_at = now() + make_interval(secs => $3), last_attempted_at = now(),
              refresh_in_flight_fence = $2::uuid, refresh_in_flight_at = now(), refresh_in_flight_digest = $4
        WHERE id = $1 AND lease_token = $2::uuid`,
      [
        lease.connectionId,
        lease.leaseToken,
        leaseSeconds,
        refreshToken ? refreshTokenDigest(refreshToken) : null,
      ],
    );
    return count === 1;
  }

  async releaseLease(lease: Lease): Promise<void> {
    await this.db.query(
      `UPDATE connections SET lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
        WHERE id = $1 AND lease_token = $2`,
      [lease.connectionId, lease.leaseToken],
    );
  }

  open(row: ConnectionEntity): OpenedConnection {
    return {
      row,
      accessToken: row.accessToken
        ? this.cipher.open({ table: 'connections', column: 'access_token' }, row.id, row.accessToken)
        : null,
      refreshToken: row.refreshToken
        ? this.cipher.open({ table: 'connections', column: 'refresh_token' }, row.id, row.refreshToken)
        : null,
    };
  }

  /**
   * The row's access token if it has one and the connection may serve it: active or failing, or
   * needing re-authorization only because a refresh's outcome was unknown (its token is served
   * until it expires).
   */
  accessTokenOf(row: ConnectionEntity): AccessToken | null {
    if (!row.accessToken || !row.expiresAt) return null;
    if (row.status !== 'active' && row.status !== 'error' && !servedUntilExpiry(row)) return null;
    return {
      connectionId: row.id,
      connectionKey: row.key,
      accessToken: this.cipher.open(
        { table: 'connections', column: 'access_token' },
        row.id,
        row.accessToken,
      ),
      tokenType: row.tokenType ?? 'Bearer',
      expiresAtMs: new Date(row.expiresAt).getTime(),
      scope: row.scope,
      tokenVersion: row.tokenVersion,
      status: row.status,
      metadata: row.metadata ?? null,
    };
  }

  /**
   * Stores a provider's answer: new access token, new (or kept) refresh token, expiry, schedule,
   * status active, lease released, version bumped, in one statement. With a lease, it lands only
   * while that lease is still on the row; returns null when it was lost (fenced out).
   */
  async writeTokens(
    connectionId: string,
    lease: Lease | null,
    write: TokenWrite,
  ): Promise<AccessToken | null> {
    const { tokens } = write;
    const refreshToken = tokens.refreshToken ?? write.previousRefreshToken;
    const now = Date.now();
    const refreshLifetime =
      tokens.refreshTokenExpiresIn ?? (tokens.refreshToken ? write.refreshTokenLifetimeSeconds : undefined);
    const sealedAccess = this.cipher.seal(
      { table: 'connections', column: 'access_token' },
      connectionId,
      tokens.accessToken,
    );
    const sealedRefresh = refreshToken
      ? this.cipher.seal({ table: 'connections', column: 'refresh_token' }, connectionId, refreshToken)
      : null;
    const expiresAt = new Date(now + tokens.expiresIn * 1000);
    const refreshTokenExpiresAt =
      write.refreshTokenExpiresAt !== undefined
        ? write.refreshTokenExpiresAt
        : refreshLifetime
          ? new Date(now + refreshLifetime * 1000)
          : null;
    const params = [
      connectionId,
      sealedAccess,
      sealedRefresh,
      tokens.tokenType,
      expiresAt,
      tokens.scope ?? null,
      write.nextRefreshAt,
      refreshTokenExpiresAt,
      lease?.leaseToken ?? null,
      write.metadata === undefined ? null : JSON.stringify(write.metadata),
    ];
    // One statement, its own transaction: the write and its NOTIFY commit together, in one round
    // trip (a scheduled refresh at scale is mostly round trips to Postgres).
    const rows: ConnectionEntity[] = await this.db.query(
      `WITH written AS (
         UPDATE connections
            SET access_token = $2, refresh_token = $3, token_type = $4, expires_at = $5,
                scope = COALESCE($6, scope), next_refresh_at = $7,
                refresh_token_expires_at = CASE WHEN $8::timestamptz IS NOT NULL THEN $8::timestamptz
                                                WHEN $3::text IS NULL THEN NULL ELSE refresh_token_expires_at END,
                status = 'active', last_error = NULL, last_error_code = NULL, consecutive_failures = 0,
                last_refreshed_at = now(), updated_at = now(), token_version = token_version + 1,
                lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL, refresh_not_before = NULL, ${SETTLED},
                metadata = CASE WHEN $10::jsonb IS NULL THEN metadata
                                ELSE COALESCE(metadata, '{}'::jsonb) || $10::jsonb END
          WHERE id = $1 AND ($9::uuid IS NULL OR lease_token = $9::uuid)
          RETURNING ${COLUMNS})
       SELECT written.*, ${notifyOf('written', 'tokens')} FROM written`,
      params,
    );
    const row = rows[0];
    if (!row) return null;
    return {
      connectionId: row.id,
      connectionKey: row.key,
      accessToken: tokens.accessToken,
      tokenType: tokens.tokenType,
      expiresAtMs: expiresAt.getTime(),
      scope: row.scope,
      tokenVersion: row.tokenVersion,
      status: row.status,
      metadata: row.metadata ?? null,
    };
  }

  /** Records a failed refresh and releases the lease; a status change is announced to the caches. */
  /**
   * Says a problem on a connection that keeps working for now (its status and tokens unchanged):
   * the admin view shows it in `lastError` until the next token write or failure replaces it.
   */
  async writeWarning(connectionId: string, code: string, message: string): Promise<void> {
    await this.db.query(
      `UPDATE connections SET last_error = $2, last_error_code = $3, updated_at = now() WHERE id = $1`,
      [connectionId, message, code],
    );
  }

  async writeFailure(
    connectionId: string,
    lease: Lease | null,
    failure: FailureWrite,
  ): Promise<ConnectionEntity | null> {
    const rows: ConnectionEntity[] = await this.db.query(
      `WITH written AS (
         UPDATE connections
            SET status = $2::varchar, last_error = $3, last_error_code = $4, consecutive_failures = consecutive_failures + 1,
                access_token = CASE WHEN $5 THEN NULL ELSE access_token END,
                refresh_token = CASE WHEN $5 THEN NULL WHEN $8::text IS NOT NULL THEN $8::text ELSE refresh_token END,
                refresh_token_expires_at = CASE WHEN $8::text IS NOT NULL THEN $9::timestamptz
                                                ELSE refresh_token_expires_at END,
                next_refresh_at = CASE WHEN $5 THEN NULL ELSE next_refresh_at END,
                token_version = token_version + CASE WHEN $5 OR status <> $2::varchar THEN 1 ELSE 0 END,
                refresh_not_before = $10::timestamptz,
                refresh_in_flight_fence = CASE WHEN $7 THEN NULL ELSE refresh_in_flight_fence END,
                refresh_in_flight_at = CASE WHEN $7 THEN NULL ELSE refresh_in_flight_at END,
                refresh_in_flight_digest = CASE WHEN $7 THEN NULL ELSE refresh_in_flight_digest END,
                updated_at = now(), lease_token = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE id = $1 AND ($6::uuid IS NULL OR lease_token = $6::uuid)
          RETURNING ${COLUMNS})
       SELECT written.*, ${notifyOf('written', 'status')} FROM written`,
      [
        connectionId,
        failure.status,
        failure.message,
        failure.code,
        failure.clearTokens,
        lease?.leaseToken ?? null,
        failure.settled ?? true,
        failure.rotatedRefreshToken
          ? this.cipher.seal(
              { table: 'connections', column: 'refresh_token' },
              connectionId,
              failure.rotatedRefreshToken.refreshToken,
            )
          : null,
        failure.rotatedRefreshToken?.expiresAt ?? null,
        failure.notBefore ?? null,
      ],
    );
    return rows[0] ?? null;
  }

  /**
   * Stores imported connections, `active`, their tokens sealed like every other token write. Each
   * connection is one row written by one statement, so none is ever half-stored. A key that exists
   * already is left as it is; returns the ids that were inserted.
   */
  async insertImported(connections: ImportedConnection[]): Promise<Set<string>> {
    const inserted = new Set<string>();
    for (let start = 0; start < connections.length; start += IMPORT_INSERT_CHUNK) {
      const chunk = connections.slice(start, start + IMPORT_INSERT_CHUNK);
      const params: unknown[] = [];
      const tuples = chunk.map((connection) => {
        const base = params.length;
        params.push(
          connection.id,
          connection.key,
          connection.integrationId,
          connection.requestedScopes,
          connection.scope,
          connection.accessToken === null
            ? null
            : this.cipher.seal(
                { table: 'connections', column: 'access_token' },
                connection.id,
                connection.accessToken,
              ),
          this.cipher.seal(
            { table: 'connections', column: 'refresh_token' },
            connection.id,
            connection.refreshToken,
          ),
          connection.accessToken === null ? null : 'Bearer',
          connection.expiresAt,
          connection.refreshTokenExpiresAt,
          connection.nextRefreshAt,
          connection.config ? JSON.stringify(connection.config) : null,
        );
        const at = (offset: number) => `$${base + offset}`;
        return `(${at(1)}::uuid, ${at(2)}, ${at(3)}::uuid, 'active', ${at(4)}::text[], ${at(5)}, ${at(6)}, ${at(7)},
                 ${at(8)}, ${at(9)}::timestamptz, ${at(10)}::timestamptz, 1, ${at(11)}::timestamptz, ${at(12)}::jsonb)`;
      });
      const rows: { id: string }[] = await this.db.query(
        `INSERT INTO connections (id, key, integration_id, status, requested_scopes, scope, access_token,
                                  refresh_token, token_type, expires_at, refresh_token_expires_at,
                                  token_version, next_refresh_at, config)
         VALUES ${tuples.join(',\n')}
         ON CONFLICT (key) DO NOTHING
         RETURNING id`,
        params,
      );
      for (const row of rows) inserted.add(row.id);
    }
    return inserted;
  }

  /** Announces a change made elsewhere (deletion, re-authorization start). */
  async announce(change: ConnectionChange): Promise<void> {
    await this.notify(this.db.manager, change);
  }

  private async notify(manager: { query: DataSource['query'] }, change: ConnectionChange): Promise<void> {
    await manager.query('SELECT pg_notify($1, $2)', [CONNECTION_CHANNEL, JSON.stringify(change)]);
  }
}

/** `last_error_code` of a connection whose refresh had an unknown outcome at a provider that revokes on reuse. */
export const REFRESH_OUTCOME_UNKNOWN = 'refresh_outcome_unknown';

/** A connection that needs re-authorization but whose access token is still served while valid. */
export function servedUntilExpiry(row: Pick<ConnectionEntity, 'status' | 'lastErrorCode'>): boolean {
  return row.status === 'needs_reauthorization' && row.lastErrorCode === REFRESH_OUTCOME_UNKNOWN;
}

/**
 * The NOTIFY of a row written by the same statement (`written` is its CTE), with the payload
 * `ConnectionEvents` parses: `{ id, key, v, kind }`.
 */
function notifyOf(written: string, kind: ConnectionChange['kind']): string {
  return `pg_notify('${CONNECTION_CHANNEL}', json_build_object('id', ${written}.id, 'key', ${written}.key,
            'v', ${written}."tokenVersion", 'kind', '${kind}')::text) AS notified`;
}
