import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  JoinColumn,
  ManyToOne,
  PrimaryColumn,
  UpdateDateColumn,
} from 'typeorm';
import { IntegrationEntity } from '../integrations/integration.entity';
import type { ConnectionStatus } from './connection-status';

/**
 * One account's tokens under an integration. Token columns are sealed by the keyring with this
 * row's id as associated data. `tokenVersion` grows with every token write: it fences a refresh
 * (a writer must hold the lease it took) and tells replicas' caches which token is current.
 */
@Entity({ name: 'connections' })
// The horizon sweep reads only what is due, whatever the table's size or its statistics.
@Index('connections_schedule_idx', ['nextRefreshAt', 'id'], {
  where: `status IN ('active', 'error') AND next_refresh_at IS NOT NULL`,
})
// Admin paging by key (`after`), within an integration or a status.
@Index('connections_integration_key_idx', ['integrationId', 'key'])
@Index('connections_status_key_idx', ['status', 'key'])
// The refresh-token expiry gauge: one index probe per integration.
@Index('connections_refresh_token_expiry_idx', ['integrationId', 'refreshTokenExpiresAt'], {
  where: `status = 'active' AND refresh_token_expires_at IS NOT NULL`,
})
export class ConnectionEntity {
  @PrimaryColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 63, unique: true })
  key: string;

  @Column({ name: 'integration_id', type: 'uuid' })
  integrationId: string;

  /** An integration with connections cannot be deleted: no account is cut off by surprise. */
  @ManyToOne(() => IntegrationEntity, { onDelete: 'RESTRICT', nullable: false })
  @JoinColumn({ name: 'integration_id' })
  integration?: IntegrationEntity;

  @Column({ type: 'varchar', length: 32 })
  status: ConnectionStatus;

  /** Scopes asked for this connection; null means the integration's scopes. */
  @Column({ name: 'requested_scopes', type: 'text', array: true, nullable: true })
  requestedScopes: string[] | null;

  /** The values the provider's entry asks of each connection (a shop, a subdomain); not secret. */
  @Column({ type: 'jsonb', nullable: true })
  config: Record<string, string> | null;

  /**
   * Fields the provider's entry keeps from its answers (`instance_url`, `realmId`…), returned with
   * each token; null when the entry keeps none. Never a token or a secret.
   */
  @Column({ type: 'jsonb', nullable: true })
  metadata: Record<string, unknown> | null;

  /** Scope the provider granted with the current token. */
  @Column({ type: 'text', nullable: true })
  scope: string | null;

  @Column({ name: 'access_token', type: 'text', nullable: true })
  accessToken: string | null;

  @Column({ name: 'refresh_token', type: 'text', nullable: true })
  refreshToken: string | null;

  @Column({ name: 'token_type', type: 'varchar', length: 16, nullable: true })
  tokenType: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Column({ name: 'refresh_token_expires_at', type: 'timestamptz', nullable: true })
  refreshTokenExpiresAt: Date | null;

  @Column({ name: 'token_version', type: 'integer', default: 0 })
  tokenVersion: number;

  @Column({ name: 'last_refreshed_at', type: 'timestamptz', nullable: true })
  lastRefreshedAt: Date | null;

  @Column({ name: 'next_refresh_at', type: 'timestamptz', nullable: true })
  nextRefreshAt: Date | null;

  /**
   * When a caller last read the token (recorded at most once per few minutes per replica), for
   * integrations that refresh ahead only what is read (`refreshAhead: when_read`).
   */
  @Column({ name: 'last_read_at', type: 'timestamptz', nullable: true })
  lastReadAt: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'last_error_code', type: 'varchar', length: 32, nullable: true })
  lastErrorCode: string | null;

  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;

  /** Refresh lease: who holds it, its fencing token, and when a crashed holder loses it. */
  @Column({ name: 'lease_token', type: 'uuid', nullable: true })
  leaseToken: string | null;

  @Column({ name: 'lease_owner', type: 'varchar', length: 128, nullable: true })
  leaseOwner: string | null;

  @Column({ name: 'lease_expires_at', type: 'timestamptz', nullable: true })
  leaseExpiresAt: Date | null;

  /**
   * The write-ahead refresh record: set (with the lease's fence, the time, a digest of the refresh
   * token sent) just before a refresh request leaves, cleared by the write that settles its outcome.
   * Found set by the next lease holder, it means that outcome is unknown (a crash, a lost answer,
   * Postgres away at the write); see docs/exactly-once.md.
   */
  @Column({ name: 'refresh_in_flight_fence', type: 'uuid', nullable: true })
  refreshInFlightFence: string | null;

  @Column({ name: 'refresh_in_flight_at', type: 'timestamptz', nullable: true })
  refreshInFlightAt: Date | null;

  @Column({ name: 'refresh_in_flight_digest', type: 'varchar', length: 64, nullable: true })
  refreshInFlightDigest: string | null;

  /** The last upstream refresh attempt, whatever came of it: readers' least refresh interval counts these. */
  @Column({ name: 'last_attempted_at', type: 'timestamptz', nullable: true })
  lastAttemptedAt: Date | null;

  /** The provider asked for no refresh before this (Retry-After). */
  @Column({ name: 'refresh_not_before', type: 'timestamptz', nullable: true })
  refreshNotBefore: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
