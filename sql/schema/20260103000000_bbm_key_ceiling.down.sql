ALTER TABLE batched_background_migrations DROP COLUMN IF EXISTS key_ceiling;
