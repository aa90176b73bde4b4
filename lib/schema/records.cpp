// Reading and writing the migration record tables (see records.hpp).
#include "schema/records.hpp"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "db/connection.hpp"

namespace bbmd::schema {

namespace {

// One definition for both tables, so they can never drift apart. No deployed database predates
// these columns, so they are all in the CREATE; later additions belong in their own migration.
std::string create_records(const char* table) {
  return std::string("CREATE TABLE IF NOT EXISTS ") + table + R"( (
    id text PRIMARY KEY,
    state text NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'failed')),
    applied_at timestamptz,
    duration_ms bigint,
    applied_by text NOT NULL,
    queued_bbms text[] NOT NULL DEFAULT '{}',
    failed_at timestamptz,
    error text,
    attempts integer NOT NULL DEFAULT 0,
    marked_reason text
);
)";
}

// Before bbmd kept its records apart, they lived in schema_migrations and
// post_deploy_schema_migrations, the names the registry's own records use. A table of that name
// with bbmd's columns is bbmd's: `up` renames it (and its primary key, so the registry can still
// create its own); until then it is read where it is.
constexpr const char* kLegacyNames[] = {"schema_migrations", "post_deploy_schema_migrations"};

const char* legacy_table(Kind kind) { return kLegacyNames[is_post(kind) ? 1 : 0]; }

constexpr const char* kRenameLegacy = R"(
DO $rename$
DECLARE
  names text[] := ARRAY['schema_migrations', 'post_deploy_schema_migrations'];
  legacy text;
BEGIN
  FOREACH legacy IN ARRAY names LOOP
    IF to_regclass('bbmd_' || legacy) IS NULL AND EXISTS (
        SELECT 1 FROM pg_catalog.pg_attribute
        WHERE attrelid = to_regclass(legacy) AND attname = 'applied_by' AND NOT attisdropped) THEN
      EXECUTE format('ALTER TABLE %I RENAME TO %I', legacy, 'bbmd_' || legacy);
      IF to_regclass(legacy || '_pkey') IS NOT NULL THEN
        EXECUTE format('ALTER INDEX %I RENAME TO %I', legacy || '_pkey', 'bbmd_' || legacy || '_pkey');
      END IF;
    END IF;
  END LOOP;
END
$rename$;
)";

// Where a kind's records are: bbmd's own table, else a legacy one with bbmd's columns; NULL if neither.
constexpr const char* kRecordsSource =
    "SELECT CASE WHEN to_regclass($1) IS NOT NULL THEN $1 WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_attribute "
    "WHERE attrelid = to_regclass($2) AND attname = 'applied_by' AND NOT attisdropped) THEN $2 END";

std::string select_records(const std::string& table, bool post) {
  return std::string("SELECT id, state, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
                     "duration_ms, applied_by, to_json(queued_bbms)::text, "
                     "to_char(failed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), error, attempts, "
                     "marked_reason, ") +
         (post ? "true" : "false") + " FROM " + table;
}

}  // namespace

const char* records_table(Kind kind) noexcept {
  return is_post(kind) ? "bbmd_post_deploy_schema_migrations" : "bbmd_schema_migrations";
}

const Record* Records::find(const std::string& version) const {
  const auto it = by_version.find(version);
  return it == by_version.end() ? nullptr : &it->second;
}

bool Records::applied(const std::string& version) const {
  const auto* r = find(version);
  return r && !r->failed;
}

std::string this_host() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

boost::asio::awaitable<void> ensure_records(db::Connection& conn) {
  co_await conn.execute_script("schema_create_records", kRenameLegacy + create_records(records_table(Kind::pre)) +
                                                           create_records(records_table(Kind::post)));
}

boost::asio::awaitable<Records> read_records(db::Connection& conn) {
  Records out;
  for (const Kind kind : {Kind::pre, Kind::post}) {
    auto source = co_await conn.query("schema_records_source", kRecordsSource, std::string(records_table(kind)),
                                      std::string(legacy_table(kind)));
    const auto table = source.opt_string(0, 0);
    if (!table) continue;
    auto r = co_await conn.query("schema_read_records", select_records(*table, is_post(kind)));
    for (int i = 0; i < r.rows(); ++i) {
      Record rec;
      rec.version = r.get_string(i, 0);
      rec.failed = r.get_string(i, 1) == "failed";
      rec.applied_at = r.opt_string(i, 2);
      rec.duration_ms = r.opt_int(i, 3);
      rec.host = r.get_string(i, 4);
      rec.queued_bbms = nlohmann::json::parse(r.get_string(i, 5)).get<std::vector<std::string>>();
      rec.failed_at = r.opt_string(i, 6);
      rec.error = r.opt_string(i, 7);
      rec.attempts = r.get_int(i, 8);
      rec.marked_reason = r.opt_string(i, 9);
      rec.post = r.get_bool(i, 10);
      out.by_version[rec.version] = std::move(rec);
    }
  }
  co_return out;
}

boost::asio::awaitable<void> record_applied(db::Connection& conn, Kind kind, const std::string& version,
                                            std::int64_t duration_ms, const std::vector<std::string>& queued_bbms) {
  // A retried post-deployment migration turns its failed row into an applied one; the last
  // error stays as history.
  co_await conn.query("schema_record_applied",
                      std::string("INSERT INTO ") + records_table(kind) +
                          " AS r (id, state, applied_at, duration_ms, applied_by, queued_bbms) "
                          "VALUES ($1, 'applied', now(), $2, $3, ARRAY(SELECT jsonb_array_elements_text($4::jsonb))) "
                          "ON CONFLICT (id) DO UPDATE SET state = 'applied', applied_at = now(), "
                          "duration_ms = EXCLUDED.duration_ms, applied_by = EXCLUDED.applied_by, "
                          "queued_bbms = EXCLUDED.queued_bbms",
                      version, duration_ms, this_host(), nlohmann::json(queued_bbms).dump());
}

boost::asio::awaitable<void> record_marked(db::Connection& conn, Kind kind, const std::string& version,
                                           const std::string& reason) {
  co_await conn.query("schema_record_marked",
                      std::string("INSERT INTO ") + records_table(kind) +
                          " AS r (id, state, applied_at, applied_by, marked_reason) "
                          "VALUES ($1, 'applied', now(), $2, $3) "
                          "ON CONFLICT (id) DO UPDATE SET state = 'applied', applied_at = now(), "
                          "applied_by = EXCLUDED.applied_by, marked_reason = EXCLUDED.marked_reason, duration_ms = NULL",
                      version, this_host(), reason);
}

boost::asio::awaitable<void> record_failure(db::Connection& conn, Kind kind, const std::string& version,
                                            const std::string& error) {
  co_await conn.query("schema_record_failure",
                      std::string("INSERT INTO ") + records_table(kind) +
                          " AS r (id, state, applied_by, failed_at, error, attempts) "
                          "VALUES ($1, 'failed', $2, now(), $3, 1) "
                          "ON CONFLICT (id) DO UPDATE SET state = 'failed', applied_by = EXCLUDED.applied_by, "
                          "failed_at = now(), error = EXCLUDED.error, attempts = r.attempts + 1",
                      version, this_host(), error);
}

boost::asio::awaitable<void> delete_record(db::Connection& conn, Kind kind, const std::string& version) {
  co_await conn.query("schema_delete_record", std::string("DELETE FROM ") + records_table(kind) + " WHERE id = $1",
                      version);
}

}  // namespace bbmd::schema
