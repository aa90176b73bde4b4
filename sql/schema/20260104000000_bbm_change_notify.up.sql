-- Operator edits take effect at once: a new migration row, and a migration made active (resumed,
-- or queued again), send a NOTIFY on bbmd_changes with the row's id, so `bbmd serve` wakes its
-- idle workers instead of waiting for the next poll (database.backgroundmigrations.listen).
-- Only changes that give workers something to do: a pause needs no wake-up (every lease re-reads
-- the status under the row lock), nor does bbmd's own start (active -> running). Nor does a
-- finish: the worker that finished a migration lists again at once and takes whatever it made
-- runnable; notified, every idle worker of the fleet raced it for that one migration and lost
-- (with 64 short migrations on one partitioned table, 2.5 leases and 2 validations per migration
-- instead of 1, and the loser's lease held the row lock the winner's commit wanted).
-- A notification is only a hint: workers still read every row under its lock, and polling
-- stays, so a lost notification (no listener, a pooler, a reconnect) costs a poll, never a job.
-- On an adopted registry table the trigger is added beside the registry's own columns.
CREATE OR REPLACE FUNCTION bbm_notify_change() RETURNS trigger LANGUAGE plpgsql AS $notify$
BEGIN
  -- 1: active (see lib/bbm/model/status_codes.hpp).
  IF TG_OP = 'INSERT' OR (NEW.status = 1 AND OLD.status IS DISTINCT FROM 1) THEN
    PERFORM pg_notify('bbmd_changes', NEW.id::text);
  END IF;
  RETURN NULL;
END
$notify$;

CREATE TRIGGER bbm_notify_change
    AFTER INSERT OR UPDATE OF status ON batched_background_migrations
    FOR EACH ROW EXECUTE FUNCTION bbm_notify_change();
