// Throttling through `bbmd serve`: a session blocked by a batch's row lock throttles the next
// batch; a flag file holds and releases; the reason shows in the log, status and metrics.
#include <libpq-fe.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <future>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::http_get;
using bbmd::e2e::log_lines;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

TEST_CASE("a session blocked by a batch's row lock throttles the next batch", "[e2e][throttle]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 40);
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000000_touch", "touch", 40, 10);
  // Two sub-batches a job with a pause between them: the first sub-batch's row locks are held
  // through the pause, long enough for the test's session to queue behind them.
  db.exec("UPDATE batched_background_migrations SET sub_batch_size = 5, sub_batch_pause_ms = 1500");
  ConfigFile cfg(db, {{"database.backgroundmigrations.backoff.initial", "500ms"},
                      {"database.backgroundmigrations.backoff.max", "1s"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);

  REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM t WHERE changes = 0 AND id <= 5") == 0 ||
                                  db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 1") == 1; },
                     10s));
  // Block on row 1 (locked by the first job's first sub-batch) until that job commits.
  auto blocked = std::async(std::launch::async, [&] {
    PGconn* c = PQconnectdb(db.conninfo().c_str());
    PGresult* r = PQexec(c, "UPDATE t SET a = a WHERE id = 1");
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    return ok;
  });
  REQUIRE(blocked.wait_for(20s) == std::future_status::ready);
  CHECK(blocked.get());
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 10s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "lock_waiters");
  CHECK(throttled.front()["bbm_id"] == id);
  // Nothing waits any more: the migration goes on and finishes, every row changed once.
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  // Every reason's series exists from the start: this one has counted the hold.
  CHECK(bbmd::e2e::metric_value(http_get(*port, "/metrics").body,
                                "registry_bbm_throttle_seconds_total{reason=\"lock_waiters\"}")
            .value_or(0) > 0);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("a flag file holds the migration with its reason in status: removing it releases", "[e2e][throttle]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 100);
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000000_touch", "touch", 100, 10);
  ConfigFile cfg(db, {{"database.backgroundmigrations.throttle.flagfile", "\"throttle.flag\""}});
  cfg.dir().write("throttle.flag", "");
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(poll_until([&] { return db.scalar("SELECT coalesce(hold_code, '') FROM batched_background_migrations") ==
                                  "throttled"; }, 10s));
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
  const auto status = bbmd::test::run_bbmd({"background-migrate", "status", cfg.path()});
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("held: flag_file") != std::string::npos);
  std::filesystem::remove(cfg.dir().path() / "throttle.flag");
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  CHECK(db.scalar("SELECT hold_code IS NULL FROM batched_background_migrations") == "t");
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("the operator's SQL check holds the migration while it returns true", "[e2e][throttle]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 100);
  db.exec("CREATE TABLE maintenance_window (open bool NOT NULL)");
  db.exec("INSERT INTO maintenance_window VALUES (true)");
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000000_touch", "touch", 100, 10);
  ConfigFile cfg(db, {{"database.backgroundmigrations.throttle.query",
                       "\"SELECT EXISTS (SELECT 1 FROM maintenance_window WHERE open)\""},
                      {"database.backgroundmigrations.throttle.checkinterval", "0s"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 10s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "sql_check");
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
  db.exec("UPDATE maintenance_window SET open = false");
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
