// Parallel migrations in `bbmd serve`: different tables at once, one job per table by default,
// and the fleet-wide cap; every row still changed exactly once.
#include <signal.h>

#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

namespace {

// Two tables t1, t2 (ids 1..n, a counter of changes) and a migration on each, or two on t1.
std::vector<std::int64_t> queue_two(TestDatabase& db, bool same_table, int rows) {
  for (const char* t : {"t1", "t2"}) {
    db.exec(std::string("CREATE TABLE ") + t + " (id bigint PRIMARY KEY, a int NOT NULL, changes int NOT NULL DEFAULT 0)");
    db.exec(std::string("INSERT INTO ") + t + " (id, a) SELECT g, g FROM generate_series(1, " + std::to_string(rows) + ") g");
  }
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 2; ++i) {
    bbmd::test::MigrationRow row;
    row.name = "2026010100000" + std::to_string(i) + "_touch_" + std::to_string(i);
    row.table_name = same_table ? "public.t1" : (i == 0 ? "public.t1" : "public.t2");
    row.job_signature_name = "touch";
    row.job_arguments = "{}";
    row.max_value = rows;
    row.batch_size = 10;
    ids.push_back(bbmd::test::queue_migration(db, row));
  }
  return ids;
}

// Runs serve until both migrations finish, sampling how many jobs run at once (on any table
// and on one table); returns {max running, max running on one table}.
std::pair<long long, long long> run_and_sample(TestDatabase& db, const bbmd::test::ConfigOverrides& extra) {
  bbmd::test::ConfigOverrides values = {{"database.backgroundmigrations.workers", "2"},
                                        {"database.pool.maxopen", "4"}};
  for (const auto& [k, v] : extra) values[k] = v;
  ConfigFile cfg(db, values);
  cfg.dir().write("functions/touch.sql",
                  "WITH s AS (SELECT pg_sleep(0.15) AS slept) UPDATE {{table}} SET changes = changes + 1 FROM s "
                  "WHERE {{column}} BETWEEN $1 AND $2");
  auto serve = bbmd::e2e::start_serve(cfg);
  long long most = 0, most_on_one_table = 0;
  const bool done = poll_until(
      [&] {
        most = std::max(most, db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 1"));
        most_on_one_table = std::max(
            most_on_one_table, db.count("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM "
                                        "background_migration_jobs WHERE status = 1 GROUP BY table_oid) c"));
        return db.count("SELECT count(*) FROM batched_background_migrations WHERE status = 2") == 2;
      },
      60s, 10ms);
  INFO(serve->err());
  REQUIRE(done);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
  return {most, most_on_one_table};
}

void check_every_row_once(TestDatabase& db, int rows) {
  for (const char* t : {"t1", "t2"}) {
    CHECK(db.count(std::string("SELECT count(*) FROM ") + t + " WHERE changes <> 1") == 0);
    CHECK(db.count(std::string("SELECT count(*) FROM ") + t) == rows);
  }
}

}  // namespace

TEST_CASE("two migrations on two tables run at the same time", "[e2e][parallel]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  queue_two(db, false, 100);
  const auto [most, most_on_one_table] = run_and_sample(db, {});
  CHECK(most == 2);
  CHECK(most_on_one_table == 1);
  check_every_row_once(db, 100);
}

TEST_CASE("two migrations on the same table never run at the same time", "[e2e][parallel]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  queue_two(db, true, 100);
  const auto [most, most_on_one_table] = run_and_sample(db, {});
  CHECK(most == 1);
  CHECK(most_on_one_table == 1);
  // Both migrations touched every row of t1 once each.
  CHECK(db.count("SELECT count(*) FROM t1 WHERE changes <> 2") == 0);
  CHECK(db.count("SELECT count(*) FROM t2 WHERE changes <> 0") == 0);
}

TEST_CASE("the fleet-wide cap holds parallel tables to one running job", "[e2e][parallel]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  queue_two(db, false, 60);
  const auto [most, most_on_one_table] =
      run_and_sample(db, {{"database.backgroundmigrations.maxrunningjobs", "1"}});
  CHECK(most == 1);
  check_every_row_once(db, 60);
}
