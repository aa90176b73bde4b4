DROP INDEX IF EXISTS background_migration_jobs_running_by_table_idx;
ALTER TABLE background_migration_jobs DROP COLUMN IF EXISTS sub_batch_size, DROP COLUMN IF EXISTS table_oid;
ALTER TABLE batched_background_migrations
    DROP COLUMN IF EXISTS sub_batch_pause_ms,
    DROP COLUMN IF EXISTS max_batch_size,
    DROP COLUMN IF EXISTS min_batch_size;
