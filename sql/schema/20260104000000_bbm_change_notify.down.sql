DROP TRIGGER IF EXISTS bbm_notify_change ON batched_background_migrations;
DROP FUNCTION IF EXISTS bbm_notify_change();
