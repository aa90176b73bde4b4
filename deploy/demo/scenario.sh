#!/usr/bin/env bash
# The demo scenario, run inside pg_virtualenv (PGHOST, PGPORT, PGUSER, PGPASSWORD are set).
set -euo pipefail
bbmd="$1"
. "$(dirname "$0")/lib.sh"
started=$(date +%s)

cat > "$work/bbmd.yml" <<EOC
database:
  host: ${PGHOST:-localhost}
  port: ${PGPORT:-5432}
  user: ${PGUSER:-postgres}
  dbname: postgres
  backgroundmigrations:
    startupjitter: 0s
    workers: 2
log:
  level: info
  formatter: json
http:
  debug:
    addr: 127.0.0.1:5001
EOC
# The password comes from the environment, as it would from a Kubernetes Secret.
export REGISTRY_DATABASE_PASSWORD="${PGPASSWORD:-}"

step "bbmd database migrate up: bbmd's own tables"
"$bbmd" database migrate up "$work/bbmd.yml"

step "a table of 1,000,000 rows"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE demo_items (id bigint PRIMARY KEY, quantity int NOT NULL, quantity_big bigint, serial_no bigint);
INSERT INTO demo_items SELECT g, (g * 7) % 100000, NULL, NULL FROM generate_series(1, 1000000) g;
CREATE SEQUENCE demo_items_serial_no_seq;
-- null keyset batching walks this partial index
CREATE INDEX CONCURRENTLY demo_items_serial_no_null ON demo_items (id) WHERE serial_no IS NULL;
SQL
psql -Atc "SELECT 'rows: ' || count(*) FROM demo_items"

step "queue two batched background migrations"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
INSERT INTO batched_background_migrations
  (name, table_name, column_name, job_signature_name, job_arguments, batching_strategy, min_value, max_value, batch_size, status)
VALUES
  ('20260101000001_copy_quantity_to_bigint', 'public.demo_items', 'id', 'copy_column',
   '{"from": "quantity", "to": "quantity_big"}', NULL, 1, 1000000, 20000, 1),
  ('20260101000002_fill_serial_no', 'public.demo_items', 'serial_no', 'fill_from_sequence',
   '{"sequence": "public.demo_items_serial_no_seq"}', 'null_keyset', 1, 1000000, 20000, 1);
SQL

step "bbmd serve (JSON logs in $work/serve.log)"
start_serve "$bbmd" "$work/bbmd.yml"
wait_until_finished "$bbmd" "$work/bbmd.yml"

step "bbmd background-migrate status"
"$bbmd" background-migrate status "$work/bbmd.yml"

step "a few /metrics lines"
curl -sf http://127.0.0.1:5001/metrics \
  | grep -E '^(registry_bbm_migrated_tuples_total|registry_bbm_runs_total|registry_bbm_job_duration_seconds_count|registry_database_queries_total\{name="bbm_lease_insert"\})'

step "a worker log line"
grep -m1 '"msg":"job finished"' "$work/serve.log"

step "check every row"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
DECLARE bad_copy bigint; missing bigint; dupes bigint;
BEGIN
  SELECT count(*) INTO bad_copy FROM demo_items WHERE quantity_big IS DISTINCT FROM quantity;
  SELECT count(*) INTO missing FROM demo_items WHERE serial_no IS NULL;
  SELECT count(*) - count(DISTINCT serial_no) INTO dupes FROM demo_items;
  IF bad_copy <> 0 OR missing <> 0 OR dupes <> 0 THEN
    RAISE EXCEPTION 'check failed: % rows not copied, % NULLs left, % duplicate serials', bad_copy, missing, dupes;
  END IF;
  RAISE NOTICE 'all 1000000 rows copied to bigint and given a unique serial number';
END $$;
SQL

stop_serve
echo
echo "demo finished in $(( $(date +%s) - started ))s; bbmd stopped cleanly"
