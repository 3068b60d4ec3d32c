import { MigrationInterface, QueryRunner } from 'typeorm';

/** Issue 16: a connection's config values and kept metadata, and the PKCE verifier of a pending authorization. */
export class ProviderCatalogue1795500000016 implements MigrationInterface {
  name = 'ProviderCatalogue1795500000016';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "connections" ADD "config" jsonb`);
    await queryRunner.query(`ALTER TABLE "connections" ADD "metadata" jsonb`);
    await queryRunner.query(`ALTER TABLE "oauth_states" ADD "code_verifier" text`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "oauth_states" DROP COLUMN "code_verifier"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "metadata"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "config"`);
  }
}
