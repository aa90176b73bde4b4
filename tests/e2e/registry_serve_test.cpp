// `bbmd serve` on the registry's kind of queue: migrations on a hash-partitioned parent and on its
// partitions run one after the other in queue order while other tables run beside them; the
// registry's jobinterval spaces every job; a work-function file that cannot be used holds its
// migrations and never stops serve; a file overriding a shipped function is announced.
#include <signal.h>

#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::log_lines;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kWorker = "registry.bbm.Worker";
constexpr const char* kDaemon = "bbmd.daemon";

std::int64_t queue_touch(TestDatabase& db, const std::string& name, const std::string& table, int max, int batch) {
  bbmd::test::MigrationRow row;
  row.name = name;
  row.table_name = table;
  row.job_signature_name = "slowTouch";
  row.job_arguments = "{}";
  row.max_value = max;
  row.batch_size = batch;
  return bbmd::test::queue_migration(db, row);
}

void write_slow_touch(const ConfigFile& cfg) {
  cfg.dir().write("functions/slowTouch.sql",
                  "WITH s AS (SELECT pg_sleep(0.05) AS slept) UPDATE {{table}} SET changes = changes + 1 FROM s "
                  "WHERE {{column}} BETWEEN $1 AND $2");
}

bool all_finished(TestDatabase& db, int count) {
  return db.count("SELECT count(*) FROM batched_background_migrations WHERE status = 2") == count;
}

}  // namespace

TEST_CASE("migrations on a partitioned table and on its partitions run in queue order, other tables beside them",
          "[e2e][registry][partitions]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  db.exec("CREATE SCHEMA partitions");
  db.exec("CREATE TABLE m (id bigint PRIMARY KEY, changes int NOT NULL DEFAULT 0) PARTITION BY HASH (id)");
  db.exec("CREATE TABLE partitions.m_p_0 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 0)");
  db.exec("CREATE TABLE partitions.m_p_1 PARTITION OF m FOR VALUES WITH (MODULUS 2, REMAINDER 1)");
  db.exec("INSERT INTO m (id) SELECT generate_series(1, 200)");
  bbmd::test::make_table(db, 200);
  const auto parent = queue_touch(db, "20240101000000_parent", "public.m", 200, 20);
  const auto partition = queue_touch(db, "20240101000001_partition", "partitions.m_p_1", 200, 20);
  const auto other = queue_touch(db, "20240101000002_other_table", "public.t", 200, 20);

  ConfigFile cfg(db, {{"database.backgroundmigrations.workers", "2"}, {"database.pool.maxopen", "4"}});
  write_slow_touch(cfg);
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(poll_until([&] { return all_finished(db, 3); }, 60s));
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);

  const auto span = [&](std::int64_t id) {
    return db.rows("SELECT min(started_at), max(finished_at) FROM background_migration_jobs "
                   "WHERE batched_background_migration_id = " + std::to_string(id))[0];
  };
  // The partition's migration began only once the parent's had finished; the other table's ran
  // while the parent's did.
  CHECK(db.scalar("SELECT '" + span(partition)[0] + "'::timestamptz >= '" + span(parent)[1] + "'::timestamptz") == "t");
  CHECK(db.scalar("SELECT '" + span(other)[0] + "'::timestamptz < '" + span(parent)[1] + "'::timestamptz") == "t");
  // Jobs on a partition count against its parent's cap.
  CHECK(db.rows("SELECT DISTINCT table_oid::regclass::text FROM background_migration_jobs WHERE "
                "batched_background_migration_id IN (" + std::to_string(parent) + ", " + std::to_string(partition) +
                ")") == Rows{{"m"}});
  CHECK(db.count("SELECT count(*) FROM partitions.m_p_1 WHERE changes <> 2") == 0);
  CHECK(db.count("SELECT count(*) FROM partitions.m_p_0 WHERE changes <> 1") == 0);
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
}

TEST_CASE("jobinterval is the least gap between the job starts of a worker, leased ahead or not",
          "[e2e][registry][jobinterval]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::make_table(db, 600);
  queue_touch(db, "20240101000000_spaced", "public.t", 600, 100);
  ConfigFile cfg(db, {{"database.backgroundmigrations.jobinterval", "300ms"}});
  write_slow_touch(cfg);
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(poll_until([&] { return all_finished(db, 1); }, 60s));
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
  // Job starts as the server recorded them; a loopback round trip of clock skew allowed.
  const auto gaps = db.rows("SELECT round(extract(epoch FROM started_at - lag(started_at) OVER (ORDER BY started_at)) "
                            "* 1000) FROM background_migration_jobs ORDER BY started_at OFFSET 1");
  REQUIRE(gaps.size() == 5);
  for (const auto& gap : gaps) {
    INFO(gap[0]);
    CHECK(std::stoll(gap[0]) >= 298);
  }
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
}

TEST_CASE("a work-function file that is not valid SQL holds its migrations, and serve runs on",
          "[e2e][registry][workfunctions]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::make_table(db, 100);
  const auto broken = queue_touch(db, "20240101000000_broken", "public.t", 100, 50);
  db.exec("UPDATE batched_background_migrations SET job_signature_name = 'copyBrokenColumn' WHERE id = " +
          std::to_string(broken));
  queue_touch(db, "20240101000001_fine", "public.t", 100, 50);
  ConfigFile cfg(db);
  write_slow_touch(cfg);
  const auto file = cfg.dir().write("functions/copyBrokenColumn.sql", "UPDATE {{table}} SET changes = WHERE id = 1");
  cfg.dir().write("functions/copyBlobMediaTypeIDToNewBigIntColumn.sql",
                  "UPDATE {{table}} SET changes = changes + 1 WHERE {{column}} BETWEEN $1 AND $2");
  auto serve = bbmd::e2e::start_serve(cfg);

  const std::string problem = file.string() + ": not valid SQL: syntax error at or near \"WHERE\" at character 32";
  REQUIRE(poll_until([&] {
    return db.scalar("SELECT coalesce(hold_code, '') FROM batched_background_migrations WHERE id = " +
                     std::to_string(broken)) == "invalid_work_function";
  }, 20s));
  CHECK(db.scalar("SELECT hold_reason FROM batched_background_migrations WHERE id = " + std::to_string(broken)) ==
        "work function 'copyBrokenColumn' cannot be used: " + problem + "; fix the file and restart bbmd");
  // The migration after it in the same table's queue waits behind it; serve itself is fine.
  CHECK(serve->running());
  const auto errors = log_lines(serve->err(), kDaemon, "work function file cannot be used");
  REQUIRE(errors.size() == 1);
  CHECK(errors[0]["error"] == problem);
  const auto overrides = log_lines(serve->err(), kDaemon, "work function file overrides a shipped one");
  REQUIRE(overrides.size() == 1);
  CHECK(overrides[0]["work_function"] == "copyBlobMediaTypeIDToNewBigIntColumn");
  CHECK(log_lines(serve->err(), kWorker, "background migration held").size() == 1);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
