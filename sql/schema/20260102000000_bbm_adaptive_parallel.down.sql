DO $jobs$
DECLARE
  jobs text := CASE WHEN to_regclass('batched_background_migration_jobs') IS NULL THEN 'background_migration_jobs'
                    ELSE 'batched_background_migration_jobs' END;
BEGIN
  IF jobs = 'batched_background_migration_jobs' THEN
    -- The view names the columns that go: rebuilt without them by the first migration's definition.
    DROP VIEW IF EXISTS background_migration_jobs;
  END IF;
  EXECUTE format('DROP INDEX IF EXISTS %I', jobs || '_running_by_table_idx');
  EXECUTE format('ALTER TABLE %I DROP COLUMN IF EXISTS sub_batch_size, DROP COLUMN IF EXISTS table_oid', jobs);
  IF jobs = 'batched_background_migration_jobs' THEN
    CREATE VIEW background_migration_jobs AS SELECT * FROM batched_background_migration_jobs;
  END IF;
END
$jobs$;
ALTER TABLE batched_background_migrations
    DROP COLUMN IF EXISTS sub_batch_pause_ms,
    DROP COLUMN IF EXISTS max_batch_size,
    DROP COLUMN IF EXISTS min_batch_size;
