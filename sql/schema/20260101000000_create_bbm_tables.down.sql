-- Tables bbmd created go; adopted registry tables stay with every row, losing only what bbmd added.
-- bbmd's own migrations table carries the comment 'bbmd' (or, created before that comment, its
-- status check); its own job table is a table, where an adopted one is seen through a view.
DO $drop$
BEGIN
  IF (SELECT relkind FROM pg_catalog.pg_class WHERE oid = to_regclass('background_migration_jobs')) = 'r' THEN
    DROP TABLE background_migration_jobs;
  ELSE
    DROP VIEW IF EXISTS background_migration_jobs;
    IF to_regclass('batched_background_migration_jobs') IS NOT NULL THEN
      DROP INDEX IF EXISTS batched_background_migration_jobs_unfinished_idx;
      ALTER TABLE batched_background_migration_jobs
          DROP COLUMN IF EXISTS lease_owner, DROP COLUMN IF EXISTS lease_token, DROP COLUMN IF EXISTS lease_expires_at,
          DROP COLUMN IF EXISTS batch_size, DROP COLUMN IF EXISTS rows_affected, DROP COLUMN IF EXISTS duration_ms,
          DROP COLUMN IF EXISTS last_error;
    END IF;
  END IF;
  IF obj_description(to_regclass('batched_background_migrations'), 'pg_class') = 'bbmd' OR EXISTS (
      SELECT 1 FROM pg_catalog.pg_constraint
      WHERE conrelid = to_regclass('batched_background_migrations')
        AND conname = 'batched_background_migrations_status_check') THEN
    DROP TABLE batched_background_migrations;
  ELSIF to_regclass('batched_background_migrations') IS NOT NULL THEN
    ALTER TABLE batched_background_migrations
        DROP COLUMN IF EXISTS job_arguments, DROP COLUMN IF EXISTS hold_until, DROP COLUMN IF EXISTS hold_reason,
        DROP COLUMN IF EXISTS hold_code, DROP COLUMN IF EXISTS last_error;
  END IF;
END
$drop$;
DROP SEQUENCE IF EXISTS bbm_lease_token_seq;
