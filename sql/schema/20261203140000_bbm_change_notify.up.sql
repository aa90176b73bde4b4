-- Operator edits take effect at once: every new migration row and every status change (pause,
-- resume, finish, fail) sends a NOTIFY on bbm_changes with the row's id, so `bbmd serve` wakes
-- its idle workers instead of waiting for the next poll (database.backgroundmigrations.listen).
-- Not bbmd's own start of a migration (1 active -> 4 running): nothing becomes runnable by it,
-- and the wake-up sent every idle worker of the fleet into the lease just begun, to wait on its
-- row lock and find the table busy.
-- A notification is only a hint: workers still read every row under its lock, and polling
-- stays, so a lost notification (no listener, a pooler, a reconnect) costs a poll, never a job.
-- On an adopted registry table the trigger is added beside the registry's own columns.
CREATE OR REPLACE FUNCTION bbm_notify_change() RETURNS trigger LANGUAGE plpgsql AS $notify$
BEGIN
  -- Bookkeeping that leaves the status alone (updated_at, key_ceiling) stays silent.
  IF TG_OP = 'UPDATE' AND (OLD.status IS NOT DISTINCT FROM NEW.status OR (OLD.status = 1 AND NEW.status = 4)) THEN
    RETURN NULL;
  END IF;
  PERFORM pg_notify('bbm_changes', NEW.id::text);
  RETURN NULL;
END
$notify$;

CREATE TRIGGER bbm_notify_change
    AFTER INSERT OR UPDATE OF status ON batched_background_migrations
    FOR EACH ROW EXECUTE FUNCTION bbm_notify_change();
