import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795409209714 implements MigrationInterface {
  name = 'InitialSchema1795409209714';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "clients" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "name" character varying(100) NOT NULL, "api_key_prefix" character varying(32) NOT NULL, "api_key_hash" character(64) NOT NULL, "connections" text array NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_a53075c3bc206fe1107be5164af" UNIQUE ("api_key_prefix"), CONSTRAINT "PK_f1ab7cf3a5714dbc6bb4e1c28a4" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "integrations" ("id" uuid NOT NULL, "key" character varying(63) NOT NULL, "provider" character varying(32) NOT NULL, "client_id" text NOT NULL, "client_secret" text NOT NULL, "config" jsonb NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_06105bf2670b01135f00ffdfd44" UNIQUE ("key"), CONSTRAINT "PK_9adcdc6d6f3922535361ce641e8" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "connections" ("id" uuid NOT NULL, "key" character varying(63) NOT NULL, "integration_id" uuid NOT NULL, "status" character varying(32) NOT NULL, "requested_scopes" text array, "scope" text, "access_token" text, "refresh_token" text, "token_type" character varying(16), "expires_at" TIMESTAMP WITH TIME ZONE, "refresh_token_expires_at" TIMESTAMP WITH TIME ZONE, "token_version" integer NOT NULL DEFAULT '0', "last_refreshed_at" TIMESTAMP WITH TIME ZONE, "next_refresh_at" TIMESTAMP WITH TIME ZONE, "last_error" text, "last_error_code" character varying(32), "consecutive_failures" integer NOT NULL DEFAULT '0', "lease_token" uuid, "lease_owner" character varying(128), "lease_expires_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_44314c0829cc1f8cc4e4a166563" UNIQUE ("key"), CONSTRAINT "PK_0a1f844af3122354cbd487a8d03" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "connections_integration_idx" ON "connections"  ("integration_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "connections_due_idx" ON "connections"  ("status", "next_refresh_at") `,
    );
    await queryRunner.query(
      `CREATE TABLE "oauth_states" ("id" uuid NOT NULL DEFAULT gen_random_uuid(), "connection_id" uuid NOT NULL, "state_hash" character(64) NOT NULL, "redirect_uri" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE NOT NULL, "consumed_at" TIMESTAMP WITH TIME ZONE, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "UQ_5defe4681c33ccfc0f935f51398" UNIQUE ("state_hash"), CONSTRAINT "PK_c9df6e4203e8ca042bfe5bd00ec" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "oauth_states_connection_idx" ON "oauth_states"  ("connection_id") `,
    );
    await queryRunner.query(
      `CREATE TABLE "audit_events" ("id" BIGSERIAL NOT NULL, "action" character varying(64) NOT NULL, "actor" character varying(128) NOT NULL, "target_type" character varying(32) NOT NULL, "target_key" character varying(128), "outcome" character varying(32) NOT NULL, "details" jsonb, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_910f64d901a5c3e9878f0d4a407" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "audit_events_created_idx" ON "audit_events"  ("created_at") `);
    await queryRunner.query(
      `ALTER TABLE "connections" ADD CONSTRAINT "FK_9a8129f4cd7f720d4254c3b85ba" FOREIGN KEY ("integration_id") REFERENCES "integrations"("id") ON DELETE RESTRICT ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "oauth_states" ADD CONSTRAINT "FK_5bc6ac893299dc41430d8fb9b4c" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "oauth_states" DROP CONSTRAINT "FK_5bc6ac893299dc41430d8fb9b4c"`);
    await queryRunner.query(`ALTER TABLE "connections" DROP CONSTRAINT "FK_9a8129f4cd7f720d4254c3b85ba"`);
    await queryRunner.query(`DROP INDEX "public"."audit_events_created_idx"`);
    await queryRunner.query(`DROP TABLE "audit_events"`);
    await queryRunner.query(`DROP INDEX "public"."oauth_states_connection_idx"`);
    await queryRunner.query(`DROP TABLE "oauth_states"`);
    await queryRunner.query(`DROP INDEX "public"."connections_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."connections_integration_idx"`);
    await queryRunner.query(`DROP TABLE "connections"`);
    await queryRunner.query(`DROP TABLE "integrations"`);
    await queryRunner.query(`DROP TABLE "clients"`);
  }
}
