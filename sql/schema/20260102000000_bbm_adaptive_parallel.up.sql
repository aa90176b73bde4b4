-- Adaptive batch size bounds, sub-batch pacing, and what leases need to cap running jobs per table.

-- NULL bounds: the adaptive size stays between 1 and batch_size (it never grows past what the
-- operator queued unless max_batch_size allows it).
ALTER TABLE batched_background_migrations
    ADD COLUMN min_batch_size integer,
    ADD COLUMN max_batch_size integer,
    ADD COLUMN sub_batch_pause_ms integer NOT NULL DEFAULT 0;

-- table_oid: the resolved target of the job, so leases can count running jobs per table
-- whatever spelling migrations use for it. sub_batch_size: the size this job's next attempt
-- uses after a statement timeout shrank it.
ALTER TABLE background_migration_jobs
    ADD COLUMN table_oid oid,
    ADD COLUMN sub_batch_size integer;

CREATE INDEX background_migration_jobs_running_by_table_idx
    ON background_migration_jobs (table_oid) WHERE status = 1;
