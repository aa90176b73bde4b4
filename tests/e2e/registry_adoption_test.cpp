// bbmd on a database the GitLab container registry created: `database migrate up` adopts its BBM
// tables (every row kept, no registry column changed, its record tables untouched, its later
// migrations still applying), and the migrations it left half-way continue after their last
// finished range, retrying its failed and half-done jobs with their attempts counted.
#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"
#include "e2e/migrate_support.hpp"
#include "support/registry_fixture.hpp"

using namespace std::chrono_literals;
using bbmd::test::poll_until;
using Rows = std::vector<std::vector<std::string>>;

namespace {

// The registry's columns of both BBM tables (name, type, nullability, default), in order.
std::string registry_columns(bbmd::test::TestDatabase& db) {
  return db.scalar(
      "SELECT string_agg(format('%s.%s %s %s %s', table_name, column_name, data_type, is_nullable, "
      "coalesce(column_default, '-')), E'\\n' ORDER BY table_name, ordinal_position) FROM information_schema.columns "
      "WHERE (table_name = 'batched_background_migrations' AND column_name IN ('id', 'name', 'created_at', "
      "'updated_at', 'min_value', 'max_value', 'batch_size', 'status', 'job_signature_name', 'table_name', "
      "'column_name', 'failure_error_code', 'started_at', 'finished_at', 'batching_strategy', 'total_tuple_count', "
      "'sub_batch_size')) OR (table_name = 'batched_background_migration_jobs' AND column_name IN ('id', "
      "'created_at', 'updated_at', 'started_at', 'finished_at', 'batched_background_migration_id', 'min_value', "
      "'max_value', 'status', 'failure_error_code', 'attempts'))");
}

std::string registry_records(bbmd::test::TestDatabase& db) {
  return db.scalar("SELECT string_agg(t || ' ' || id || ' ' || applied_at, E'\\n' ORDER BY t, id) FROM ("
                   "SELECT 'pre' AS t, id, applied_at FROM schema_migrations UNION ALL "
                   "SELECT 'post', id, applied_at FROM post_deploy_schema_migrations) r");
}

// A work function with the registry's naming that counts each row it touches.
constexpr const char* kTouch = "touchRowsInRange";
constexpr const char* kTouchSql = "UPDATE {{table}} SET changes = changes + 1, b = a WHERE {{column}} BETWEEN $1 AND $2";

}  // namespace

TEST_CASE("migrate up adopts the registry's BBM tables: rows, registry columns and record tables untouched",
          "[e2e][registry][adopt]") {
  bbmd::e2e::MigrateSetup s;
  bbmd::test::create_registry_schema(s.db);
  bbmd::test::make_table(s.db, 10);
  const auto id = bbmd::test::queue_registry_bbm(s.db, {});
  bbmd::test::add_registry_job(s.db, id, 1, 5, 2, 1);
  const auto columns = registry_columns(s.db);
  const auto records = registry_records(s.db);
  const auto rows = s.db.rows("SELECT id, name, status, max_value, job_signature_name FROM batched_background_migrations");
  const auto jobs = s.db.rows("SELECT id, min_value, max_value, status, attempts FROM batched_background_migration_jobs");

  const auto r = s.migrate("up");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(registry_columns(s.db) == columns);
  CHECK(registry_records(s.db) == records);
  CHECK(s.db.rows("SELECT id, name, status, max_value, job_signature_name FROM batched_background_migrations") == rows);
  CHECK(s.db.rows("SELECT id, min_value, max_value, status, attempts FROM batched_background_migration_jobs") == jobs);
  // bbmd's jobs are the registry's: the view shows the same rows.
  CHECK(s.db.rows("SELECT relkind FROM pg_class WHERE relname = 'background_migration_jobs'") == Rows{{"v"}});
  CHECK(s.db.rows("SELECT id, min_value, max_value, status, attempts FROM background_migration_jobs") == jobs);
  // bbmd's records live in its own tables.
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations") == 4);
  // The registry's later migrations still apply on top.
  s.db.exec("ALTER TABLE batched_background_migrations ADD COLUMN IF NOT EXISTS future_registry_column text");
  s.db.exec("ALTER TABLE batched_background_migration_jobs ADD COLUMN IF NOT EXISTS future_job_column text");
  CHECK(s.db.count("SELECT count(*) FROM information_schema.columns WHERE column_name LIKE 'future_%'") == 2);

  SECTION("and down gives the tables back with every row, without bbmd's additions") {
    REQUIRE(s.migrate("down", {"--force"}).exit_code == 0);
    CHECK(registry_columns(s.db) == columns);
    CHECK(registry_records(s.db) == records);
    CHECK(s.db.rows("SELECT id, name, status, max_value, job_signature_name FROM batched_background_migrations") == rows);
    CHECK(s.db.rows("SELECT id, min_value, max_value, status, attempts FROM batched_background_migration_jobs") == jobs);
    CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('background_migration_jobs', "
                     "'bbm_lease_token_seq', 'bbmd_schema_migrations')") == 1);  // only bbmd's (empty) record table
    CHECK(s.db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = "
                     "'batched_background_migrations' AND column_name IN ('hold_code', 'job_arguments', 'key_ceiling')") == 0);
  }
}

TEST_CASE("migrate up refuses a registry table that lacks a column bbmd reads, naming it, and changes nothing",
          "[e2e][registry][adopt]") {
  bbmd::e2e::MigrateSetup s;
  bbmd::test::create_registry_schema(s.db);
  s.db.exec("ALTER TABLE batched_background_migrations DROP COLUMN total_tuple_count");
  const auto before = s.catalog();
  const auto r = s.migrate("up");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("table batched_background_migrations lacks column(s) total_tuple_count that bbmd reads: apply "
                   "the registry's own schema migrations first (registry database migrate up)") != std::string::npos);
  // Nothing half-applied: no bbmd column, view or sequence, and no record of the failed migration.
  const auto after = s.catalog();
  CHECK(after.find("hold_code") == std::string::npos);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('background_migration_jobs', 'bbm_lease_token_seq')") == 0);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations") == 0);
}

TEST_CASE("an existing bbmd install moves its records out of schema_migrations into tables of its own",
          "[e2e][registry][adopt]") {
  bbmd::e2e::MigrateSetup s;
  REQUIRE(s.migrate("up").exit_code == 0);
  // As an older bbmd left them: its records under the registry's names.
  s.db.exec("ALTER TABLE bbmd_schema_migrations RENAME TO schema_migrations; "
            "ALTER INDEX bbmd_schema_migrations_pkey RENAME TO schema_migrations_pkey; "
            "ALTER TABLE bbmd_post_deploy_schema_migrations RENAME TO post_deploy_schema_migrations; "
            "ALTER INDEX bbmd_post_deploy_schema_migrations_pkey RENAME TO post_deploy_schema_migrations_pkey");
  const auto applied = s.db.rows("SELECT id, state FROM schema_migrations ORDER BY id");
  CHECK(s.states().size() == applied.size());  // read where they are, before any upgrade
  REQUIRE(s.migrate("up").exit_code == 0);
  CHECK(s.db.rows("SELECT id, state FROM bbmd_schema_migrations ORDER BY id") == applied);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('schema_migrations', "
                   "'post_deploy_schema_migrations', 'schema_migrations_pkey')") == 0);
  // The registry can now create its own record tables beside bbmd's.
  s.db.exec("CREATE TABLE schema_migrations (id text PRIMARY KEY, applied_at timestamptz)");
}

TEST_CASE("a migration the registry left running continues after its last finished range, retrying its failed and "
          "half-done jobs with their attempts counted", "[e2e][registry][adopt]") {
  bbmd::test::TestDatabase db;
  bbmd::test::create_registry_schema(db);
  bbmd::test::make_table(db, 100);
  bbmd::test::RegistryBbm row;
  row.job_signature_name = kTouch;
  row.batch_size = 20;
  row.status = 4;
  const auto id = bbmd::test::queue_registry_bbm(db, row);
  // The registry finished 1-20 and 41-60 (their rows already carry b), failed 21-40 once, and left
  // 61-80 half-done (active, no lease: its worker is gone).
  db.exec("UPDATE t SET b = a WHERE id BETWEEN 1 AND 20 OR id BETWEEN 41 AND 60");
  bbmd::test::add_registry_job(db, id, 1, 20, 2, 1);
  bbmd::test::add_registry_job(db, id, 21, 40, 3, 1);
  bbmd::test::add_registry_job(db, id, 41, 60, 2, 1);
  bbmd::test::add_registry_job(db, id, 61, 80, 1, 1);

  bbmd::test::TempDir functions;
  functions.write(std::string(kTouch) + ".sql", kTouchSql);
  bbmd::test::ConfigFile cfg(db, {{"database.backgroundmigrations.sqlfunctions", nlohmann::json(functions.path().string()).dump()}});
  REQUIRE(bbmd::test::run_bbmd({"database", "migrate", "up", cfg.path()}).exit_code == 0);
  const auto run = bbmd::test::run_bbmd({"background-migrate", "run", cfg.path()});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);

  CHECK(db.rows("SELECT status FROM batched_background_migrations") == Rows{{"2"}});
  // Finished ranges never ran again; every other row changed exactly once.
  CHECK(db.count("SELECT count(*) FROM t WHERE changes = 0 AND (id BETWEEN 1 AND 20 OR id BETWEEN 41 AND 60)") == 40);
  CHECK(db.count("SELECT count(*) FROM t WHERE changes = 1 AND NOT (id BETWEEN 1 AND 20 OR id BETWEEN 41 AND 60)") == 60);
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
  CHECK(db.rows("SELECT min_value, max_value, status, attempts FROM batched_background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "20", "2", "1"}, {"21", "40", "2", "2"}, {"41", "60", "2", "1"}, {"61", "80", "2", "2"},
             {"81", "100", "2", "1"}});
}
