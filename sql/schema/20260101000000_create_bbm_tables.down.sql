DROP SEQUENCE IF EXISTS bbm_lease_token_seq;
DROP TABLE IF EXISTS background_migration_jobs;
DROP TABLE IF EXISTS batched_background_migrations;
