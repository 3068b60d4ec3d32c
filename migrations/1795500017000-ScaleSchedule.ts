import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The schedule at a million connections: a partial index that reads only what is due (the
 * horizon sweep), indexes that let admin paging and the alert gauges read a bounded number of
 * rows, the refresh policy of an integration, when a connection was last read, and per
 * integration and status connection counts kept by statement triggers (gauges without a scan).
 */
export class ScaleSchedule1795500017000 implements MigrationInterface {
  name = 'ScaleSchedule1795500017000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "integrations" ADD "refresh_ahead" character varying(16) NOT NULL DEFAULT 'always'`,
    );
    await queryRunner.query(`ALTER TABLE "connections" ADD "last_read_at" TIMESTAMP WITH TIME ZONE`);
    await queryRunner.query(`DROP INDEX "public"."connections_due_idx"`);
    await queryRunner.query(`DROP INDEX "public"."connections_integration_idx"`);
    await queryRunner.query(
      `CREATE INDEX "connections_schedule_idx" ON "connections" ("next_refresh_at", "id") WHERE status IN ('active', 'error') AND next_refresh_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "connections_integration_key_idx" ON "connections" ("integration_id", "key") `,
    );
    await queryRunner.query(`CREATE INDEX "connections_status_key_idx" ON "connections" ("status", "key") `);
    await queryRunner.query(
      `CREATE INDEX "connections_refresh_token_expiry_idx" ON "connections" ("integration_id", "refresh_token_expires_at") WHERE status = 'active' AND refresh_token_expires_at IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE TABLE "connection_counts" (
         "integration_id" uuid NOT NULL,
         "status" character varying(32) NOT NULL,
         "count" bigint NOT NULL,
         CONSTRAINT "PK_connection_counts" PRIMARY KEY ("integration_id", "status"))`,
    );
    // Statement-level triggers see every row a statement changed at once (transition tables):
    // one counter update per statement and status, none when a statement leaves statuses as
    // they were (a token write, a lease), rows locked in one order so writers never deadlock.
    await queryRunner.query(
      `CREATE FUNCTION connection_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'INSERT' THEN
           INSERT INTO connection_counts AS cc (integration_id, status, count)
             SELECT integration_id, status, count(*) FROM counted_new GROUP BY 1, 2 ORDER BY 1, 2
             ON CONFLICT (integration_id, status) DO UPDATE SET count = cc.count + EXCLUDED.count;
         ELSIF TG_OP = 'DELETE' THEN
           UPDATE connection_counts cc SET count = cc.count - gone.n
             FROM (SELECT integration_id, status, count(*) AS n FROM counted_old GROUP BY 1, 2 ORDER BY 1, 2) gone
            WHERE cc.integration_id = gone.integration_id AND cc.status = gone.status;
         ELSE
           INSERT INTO connection_counts AS cc (integration_id, status, count)
             SELECT integration_id, status, sum(delta) FROM (
               SELECT integration_id, status, 1 AS delta FROM counted_new
               UNION ALL SELECT integration_id, status, -1 FROM counted_old) moved
             GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2
             ON CONFLICT (integration_id, status) DO UPDATE SET count = cc.count + EXCLUDED.count;
         END IF;
         RETURN NULL;
       END $$`,
    );
    await queryRunner.query(
      `CREATE TRIGGER connection_counts_insert AFTER INSERT ON connections REFERENCING NEW TABLE AS counted_new
         FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER connection_counts_update AFTER UPDATE ON connections
         REFERENCING OLD TABLE AS counted_old NEW TABLE AS counted_new
         FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply()`,
    );
    await queryRunner.query(
      `CREATE TRIGGER connection_counts_delete AFTER DELETE ON connections REFERENCING OLD TABLE AS counted_old
         FOR EACH STATEMENT EXECUTE FUNCTION connection_counts_apply()`,
    );
    await queryRunner.query(
      `INSERT INTO connection_counts (integration_id, status, count)
         SELECT integration_id, status, count(*) FROM connections GROUP BY 1, 2`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TRIGGER connection_counts_delete ON connections`);
    await queryRunner.query(`DROP TRIGGER connection_counts_update ON connections`);
    await queryRunner.query(`DROP TRIGGER connection_counts_insert ON connections`);
    await queryRunner.query(`DROP FUNCTION connection_counts_apply()`);
    await queryRunner.query(`DROP TABLE "connection_counts"`);
    await queryRunner.query(`DROP INDEX "public"."connections_refresh_token_expiry_idx"`);
    await queryRunner.query(`DROP INDEX "public"."connections_status_key_idx"`);
    await queryRunner.query(`DROP INDEX "public"."connections_integration_key_idx"`);
    await queryRunner.query(`DROP INDEX "public"."connections_schedule_idx"`);
    await queryRunner.query(
      `CREATE INDEX "connections_integration_idx" ON "connections" ("integration_id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "connections_due_idx" ON "connections" ("status", "next_refresh_at") `,
    );
    await queryRunner.query(`ALTER TABLE "connections" DROP COLUMN "last_read_at"`);
    await queryRunner.query(`ALTER TABLE "integrations" DROP COLUMN "refresh_ahead"`);
  }
}
