import { MigrationInterface, QueryRunner } from 'typeorm';

/** Named admin tokens; audit actors long enough for `oidc:<subject>`, and the person's email. */
export class AdminIdentities1796185896930 implements MigrationInterface {
  name = 'AdminIdentities1796185896930';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "admin_tokens" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "role" character varying(16) NOT NULL, "token_prefix" character varying(32) NOT NULL, "token_hash" character(64) NOT NULL, "created_by" character varying(300) NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_4404781b068ed11fdade68ad3f2" UNIQUE ("name"), CONSTRAINT "UQ_8dc9407fd977f0be81b321ca0ec" UNIQUE ("token_prefix"), CONSTRAINT "PK_1b8fe3dbc19bbe91baa16ab6b09" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`ALTER TABLE "audit_events" ADD "actor_email" character varying(254)`);
    // Widened in place: the audit trail so far is kept.
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "actor" TYPE character varying(300)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "audit_events" ALTER COLUMN "actor" TYPE character varying(128)`);
    await queryRunner.query(`ALTER TABLE "audit_events" DROP COLUMN "actor_email"`);
    await queryRunner.query(`DROP TABLE "admin_tokens"`);
  }
}
