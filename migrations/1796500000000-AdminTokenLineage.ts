import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Named admin tokens hang from the token that minted them (deleted with it) and remember the
 * signed-in person at the root of their chain, whose current role is kept in `admin_people`.
 */
export class AdminTokenLineage1796500000000 implements MigrationInterface {
  name = 'AdminTokenLineage1796500000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "admin_people" ("actor" character varying(300) NOT NULL, "role" character varying(16), "seen_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_005ffc6ca5b7086c5cc77ce6700" PRIMARY KEY ("actor"))`,
    );
    await queryRunner.query(`ALTER TABLE "admin_tokens" ADD "parent_id" uuid`);
    await queryRunner.query(`ALTER TABLE "admin_tokens" ADD "minted_by_person" character varying(300)`);
    await queryRunner.query(
      `ALTER TABLE "admin_tokens" ADD CONSTRAINT "FK_07cca0590eb1b4ef4c26cdbfd89" FOREIGN KEY ("parent_id") REFERENCES "admin_tokens"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "admin_tokens" DROP CONSTRAINT "FK_07cca0590eb1b4ef4c26cdbfd89"`);
    await queryRunner.query(`ALTER TABLE "admin_tokens" DROP COLUMN "minted_by_person"`);
    await queryRunner.query(`ALTER TABLE "admin_tokens" DROP COLUMN "parent_id"`);
    await queryRunner.query(`DROP TABLE "admin_people"`);
  }
}
