-- Adaptive batch size bounds, sub-batch pacing, and what leases need to cap running jobs per table.

-- NULL bounds: the adaptive size stays between 1 and batch_size (it never grows past what the
-- operator queued unless max_batch_size allows it).
ALTER TABLE batched_background_migrations
    ADD COLUMN IF NOT EXISTS min_batch_size integer,
    ADD COLUMN IF NOT EXISTS max_batch_size integer,
    ADD COLUMN IF NOT EXISTS sub_batch_pause_ms integer NOT NULL DEFAULT 0;

-- table_oid: the resolved target of the job, so leases can count running jobs per table
-- whatever spelling migrations use for it. sub_batch_size: the size this job's next attempt
-- uses after a statement timeout shrank it. On an adopted registry database the job view is
-- redefined so that it shows the new columns.
DO $jobs$
DECLARE
  jobs text := CASE WHEN to_regclass('batched_background_migration_jobs') IS NULL THEN 'background_migration_jobs'
                    ELSE 'batched_background_migration_jobs' END;
BEGIN
  EXECUTE format('ALTER TABLE %I ADD COLUMN IF NOT EXISTS table_oid oid, ADD COLUMN IF NOT EXISTS sub_batch_size integer',
                 jobs);
  EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (table_oid) WHERE status = 1', jobs || '_running_by_table_idx', jobs);
  IF jobs = 'batched_background_migration_jobs' THEN
    CREATE OR REPLACE VIEW background_migration_jobs AS SELECT * FROM batched_background_migration_jobs;
  END IF;
END
$jobs$;
