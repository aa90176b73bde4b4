#!/usr/bin/env bash
# The demo's registry case, run inside pg_virtualenv after the first: a database as the GitLab
# container registry leaves it (its own BBM tables and schema records), hash-partitioned tables
# with their partitions in schema `partitions`, migrations queued the way the registry's schema
# migrations queue them (one per partition, its CamelCase work functions, max_value the largest
# bigint, NullKeySetBatchingStrategy on a table without an integer key), and bbmd driven by a
# registry config.yml. bbmd adopts the registry's tables, runs every migration, and the registry's
# own rows and records are still there afterwards.
set -euo pipefail
bbmd="$1"
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/deploy/demo/lib.sh"
started=$(date +%s)
partitions=16

export PGDATABASE=registry_demo
createdb "$PGDATABASE"

# The registry's config file: its own sections (secrets in them never printed by bbmd) around
# the database section bbmd shares with it.
cat > "$work/config.yml" <<EOC
version: 0.1
log:
  level: info
  formatter: json
  fields:
    service: registry-bbm-sidecar
storage:
  s3:
    accesskey: DEMO-ACCESS-KEY
    secretkey: DEMO-SECRET-KEY-never-printed
    region: us-east-1
    bucket: registry
http:
  addr: 0.0.0.0:5000
  secret: DEMO-HTTP-SECRET-never-printed
  debug:
    addr: 127.0.0.1:5002
    prometheus:
      enabled: true
      path: /metrics
database:
  enabled: true
  host: ${PGHOST:-localhost}
  port: ${PGPORT:-5432}
  user: ${PGUSER:-postgres}
  dbname: $PGDATABASE
  sslmode: disable
  preparedstatements: false
  pool:
    maxopen: 10
  backgroundmigrations:
    enabled: true
    jobinterval: 0s
    maxjobretries: 3
    startupjitter: 0s
    workers: 2
EOC
export REGISTRY_DATABASE_PASSWORD="${PGPASSWORD:-}"

step "the registry's database: its BBM tables and its schema migration records"
psql -q -v ON_ERROR_STOP=1 -f "$root/tests/fixtures/registry/schema.sql"
psql -Atc "SELECT 'registry schema migrations recorded: ' || count(*) FROM schema_migrations"

step "hash-partitioned tables: manifests and blobs in $partitions partitions each, 800,000 + 200,000 rows"
psql -q -v ON_ERROR_STOP=1 -v partitions="$partitions" <<'SQL'
CREATE SCHEMA partitions;
CREATE TABLE public.manifests (
  top_level_namespace_id bigint NOT NULL, id bigint NOT NULL, media_type_id smallint NOT NULL,
  media_type_id_convert_to_bigint bigint, PRIMARY KEY (top_level_namespace_id, id)
) PARTITION BY HASH (top_level_namespace_id);
-- blobs are keyed by their digest: no integer key, so their id is filled by the null keyset
CREATE TABLE public.blobs (digest bytea NOT NULL, media_type_id smallint NOT NULL, id bigint,
                           PRIMARY KEY (digest)) PARTITION BY HASH (digest);
SELECT format('CREATE TABLE partitions.%s_p_%s PARTITION OF public.%s FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
              t, r, t, :partitions, r)
FROM unnest(ARRAY['manifests', 'blobs']) t, generate_series(0, :partitions - 1) r \gexec
INSERT INTO public.manifests SELECT g % 1000, g, (g % 50)::smallint, NULL FROM generate_series(1, 800000) g;
INSERT INTO public.blobs SELECT sha256(g::text::bytea), (g % 50)::smallint, NULL FROM generate_series(1, 200000) g;
-- the copy migrations walk manifests by id within each partition
CREATE INDEX index_manifests_on_id ON public.manifests (id);
CREATE SEQUENCE blobs_id_seq;
-- populateBlobsIDColumn walks this partial index (the registry refuses to start without it)
CREATE INDEX index_blobs_on_id_null ON public.blobs (id) WHERE id IS NULL;
ANALYZE public.manifests, public.blobs;
SQL

step "migrations queued as the registry's schema migrations queue them"
psql -q -v ON_ERROR_STOP=1 -v partitions="$partitions" <<'SQL'
INSERT INTO batched_background_migrations
  (name, min_value, max_value, batch_size, status, job_signature_name, table_name, column_name)
SELECT format('20240604074823_copy_manifest_media_type_id_p_%s', r), 1, 9223372036854775807, 100000, 1,
       'copyManifestMediaTypeIDToNewBigIntColumn', format('partitions.manifests_p_%s', r), 'id'
FROM generate_series(0, :partitions - 1) r;
INSERT INTO batched_background_migrations
  (name, min_value, max_value, batch_size, status, job_signature_name, table_name, column_name, batching_strategy)
VALUES ('20240711175726_populate_blobs_id', 0, 0, 20000, 1, 'populateBlobsIDColumn', 'public.blobs', 'id',
        'NullKeySetBatchingStrategy');
SQL
psql -Atc "SELECT count(*) || ' migrations queued, ' || count(DISTINCT job_signature_name) || ' work functions'
           FROM batched_background_migrations"

step "bbmd database migrate up config.yml: bbmd adopts the registry's tables"
"$bbmd" database migrate up "$work/config.yml"
psql -Atc "SELECT 'background_migration_jobs is a ' || CASE relkind WHEN 'v' THEN 'view' ELSE 'table' END
           || ' over the registry''s batched_background_migration_jobs' FROM pg_class WHERE relname = 'background_migration_jobs'"

step "bbmd config check config.yml (secrets masked, the registry's sections left alone)"
"$bbmd" config check "$work/config.yml" | grep -E '^ *database\.(password|preparedstatements|backgroundmigrations\.workers):|^the registry|^  (version|storage)$'

step "bbmd serve config.yml (JSON logs in $work/serve.log)"
start_serve "$bbmd" "$work/config.yml"
wait_until_finished "$bbmd" "$work/config.yml"

step "bbmd background-migrate status config.yml"
"$bbmd" background-migrate status "$work/config.yml" | tail -6

step "a few /metrics lines"
curl -sf http://127.0.0.1:5002/metrics | grep -E '^registry_bbm_(migrated_tuples_total|runs_total)' | head -6

step "check every row, and that the registry's own rows are intact"
psql -q -v ON_ERROR_STOP=1 <<'SQL'
DO $$
DECLARE bad_copy bigint; missing bigint; dupes bigint; jobs bigint; records bigint;
BEGIN
  SELECT count(*) INTO bad_copy FROM public.manifests WHERE media_type_id_convert_to_bigint IS DISTINCT FROM media_type_id;
  SELECT count(*) FILTER (WHERE id IS NULL), count(id) - count(DISTINCT id) INTO missing, dupes FROM public.blobs;
  SELECT count(*) INTO jobs FROM batched_background_migration_jobs WHERE status = 2;
  SELECT count(*) INTO records FROM schema_migrations;
  IF bad_copy <> 0 OR missing <> 0 OR dupes <> 0 OR jobs = 0 OR records <> 3 THEN
    RAISE EXCEPTION 'check failed: % manifests not copied, % blobs without id, % duplicate ids, % jobs, % registry records',
      bad_copy, missing, dupes, jobs, records;
  END IF;
  RAISE NOTICE 'all 800000 manifests copied and 200000 blobs given a unique id; % jobs in the registry''s job table; the registry''s schema records untouched', jobs;
END $$;
SQL
if grep -q -e 'never-printed' -e 'DEMO-ACCESS-KEY' "$work/serve.log"; then echo "a secret reached the log"; exit 1; fi

stop_serve
echo
echo "registry case finished in $(( $(date +%s) - started ))s; bbmd stopped cleanly"
