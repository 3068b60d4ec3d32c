import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { BrokerMetrics } from '../metrics/broker-metrics';
import type { ConnectionEntity } from '../model/connection.entity';
import type { Lease } from './token-store';

/** `last_error_code` of a connection whose rotated refresh token could not be stored. */
export const ROTATED_TOKEN_UNSAVED = 'rotated_token_unsaved';

/**
 * A provider that rotates refresh tokens has consumed the old one once it answered: presenting it
 * again revokes the account at providers with reuse detection (Bloomerang). When the answer's
 * write fails, the new refresh token exists only in this process's memory; it is retried there,
 * but the row is marked `needs_reauthorization` (code `rotated_token_unsaved`, the lease kept so
 * the retried write still lands) so no replica and no restart sends the old token again, and the
 * failure is counted for the alert TokenBrokerRotatedRefreshTokenUnsaved.
 */
@Injectable()
export class RotatedTokenGuard {
  private readonly logger = new Logger(RotatedTokenGuard.name);

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly metrics: BrokerMetrics,
  ) {}

  async writeFailed(row: ConnectionEntity, lease: Lease, error: unknown): Promise<void> {
    this.metrics.rotatedRefreshTokenWriteFailed();
    const message =
      'the provider rotated the refresh token and the new one could not be stored; the old one is spent: ' +
      'authorize the connection again (or import its tokens) unless the retried write succeeds';
    this.logger.error({ err: error, connection: row.key }, message);
    try {
      await this.db.query(
        `UPDATE connections
            SET status = 'needs_reauthorization', last_error = $3, last_error_code = $4, updated_at = now()
          WHERE id = $1 AND lease_token = $2`,
        [row.id, lease.leaseToken, message, ROTATED_TOKEN_UNSAVED],
      );
    } catch (markError) {
      this.logger.error(
        { err: markError, connection: row.key },
        'the connection could not be marked either; its old refresh token may be presented again',
      );
    }
  }
}
