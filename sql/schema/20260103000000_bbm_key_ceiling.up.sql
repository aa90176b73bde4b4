-- The largest key the table held in the migration's range when its first job ran. The registry
-- queues id-keyset migrations up to the largest bigint (its "overshoot"); progress and ETA measure
-- against the keys that exist, not the 9.2 quintillion that might.
ALTER TABLE batched_background_migrations ADD COLUMN IF NOT EXISTS key_ceiling bigint;
