import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The write-ahead refresh record (the refresh in flight: its fence, when it was sent, a digest of
 * the refresh token sent), the time of the last upstream attempt, and the provider's Retry-After.
 */
export class RefreshRecord1796300000000 implements MigrationInterface {
  name = 'RefreshRecord1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" ADD "refresh_in_flight_fence" uuid`);
    await queryRunner.query(`ALTER TABLE "connections" ADD "refresh_in_flight_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "connections" ADD "refresh_in_flight_digest" character varying(64)`);
    await queryRunner.query(`ALTER TABLE "connections" ADD "last_attempted_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`ALTER TABLE "connections" ADD "refresh_not_before" TIMESTAMP WITH TIME ZONE`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "refresh_not_before"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "last_attempted_at"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "refresh_in_flight_digest"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "refresh_in_flight_at"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "refresh_in_flight_fence"`);
  }
}
