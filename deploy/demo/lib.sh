# Shared by the demo scenarios (sourced): headings, the serve process and its cleanup, and
# waiting until every migration of a database is finished.
work="$(mktemp -d)"
serve_pid=""
cleanup() {
  if [ -n "$serve_pid" ] && kill -0 "$serve_pid" 2>/dev/null; then kill -TERM "$serve_pid"; wait "$serve_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# start_serve <bbmd> <config>: `bbmd serve` in the background, its log in $work/serve.log.
start_serve() {
  "$1" serve "$2" 2> "$work/serve.log" &
  serve_pid=$!
}

stop_serve() {
  kill -TERM "$serve_pid"
  wait "$serve_pid"
  serve_pid=""
}

# wait_until_finished <bbmd> <config>: polls once a second, printing each migration's finished
# jobs, until none is left unfinished; stops the demo if one fails or is held, or serve exits.
wait_until_finished() {
  local pending failed held
  while :; do
    pending=$(psql -Atc "SELECT count(*) FROM batched_background_migrations WHERE status <> 2")
    failed=$(psql -Atc "SELECT count(*) FROM batched_background_migrations WHERE status = 3")
    held=$(psql -Atc "SELECT string_agg(name || ' held: ' || hold_reason, E'\n') FROM batched_background_migrations
                      WHERE hold_code IS NOT NULL")
    [ "$failed" = 0 ] || { echo "a migration failed"; "$1" background-migrate status "$2"; exit 1; }
    [ -z "$held" ] || { echo "$held"; exit 1; }
    [ "$pending" = 0 ] && break
    kill -0 "$serve_pid" 2>/dev/null || { echo "bbmd serve exited"; tail -20 "$work/serve.log"; exit 1; }
    psql -Atc "SELECT count(*) FILTER (WHERE status = 2) || ' of ' || count(*) || ' migrations finished, '
               || (SELECT count(*) FROM background_migration_jobs WHERE status = 2) || ' jobs done'
               FROM batched_background_migrations" | sed 's/^/  /'
    sleep 1
  done
}
