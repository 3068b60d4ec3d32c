import { MigrationInterface, QueryRunner } from 'typeorm';

export class ServiceAccountClients1795409490369 implements MigrationInterface {
  name = 'ServiceAccountClients1795409490369';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "clients" ADD "service_account" character varying(253)`);
    await queryRunner.query(
      `ALTER TABLE "clients" ADD CONSTRAINT "UQ_de22c5472da616be4064805b7dd" UNIQUE ("service_account")`,
    );
    await queryRunner.query(`ALTER TABLE "clients" ALTER COLUMN "api_key_prefix" DROP NOT NULL`);
    await queryRunner.query(`ALTER TABLE "clients" ALTER COLUMN "api_key_hash" DROP NOT NULL`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "clients" ALTER COLUMN "api_key_hash" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "clients" ALTER COLUMN "api_key_prefix" SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE "clients" DROP CONSTRAINT "UQ_de22c5472da616be4064805b7dd"`);
    await queryRunner.query(`ALTER TABLE "clients" DROP COLUMN "service_account"`);
  }
}
