// `bbmd serve` while VACUUM runs on the migration's table: held with reason autovacuum (bbmd
// waits, never cancels), then the migration finishes once the vacuum is gone.
#include <libpq-fe.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <future>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::log_lines;
using bbmd::test::poll_until;

TEST_CASE("a VACUUM on the target table holds the migration until it is gone", "[e2e][throttle]") {
  bbmd::test::TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 20000);
  db.exec("UPDATE t SET a = a + 1");  // dead tuples: the vacuum has pages to visit
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000000_touch", "touch", 20000, 2000);
  db.exec("UPDATE batched_background_migrations SET status = 0");

  // A deliberately slow VACUUM (cost-based delay on every page) in its own session.
  auto vacuum = std::async(std::launch::async, [conninfo = db.conninfo()] {
    PGconn* c = PQconnectdb(conninfo.c_str());
    PQclear(PQexec(c, "SET vacuum_cost_delay = 100"));
    PQclear(PQexec(c, "SET vacuum_cost_limit = 1"));
    PGresult* r = PQexec(c, "VACUUM t");
    const auto status = PQresultStatus(r);
    PQclear(r);
    PQfinish(c);
    return status;
  });
  REQUIRE(poll_until([&] { return db.count("SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass") == 1; },
                     10s));

  bbmd::test::ConfigFile cfg(db, {{"database.backgroundmigrations.throttle.checkinterval", "0s"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  db.exec("UPDATE batched_background_migrations SET status = 1");
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 15s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "autovacuum");
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs") == 0);
  // bbmd never cancels it: the vacuum is still running.
  CHECK(db.count("SELECT count(*) FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass") == 1);

  // The test (standing in for the vacuum finishing) ends it; the migration then goes on.
  db.exec("SELECT pg_cancel_backend(pid) FROM pg_stat_progress_vacuum WHERE relid = 't'::regclass");
  REQUIRE(vacuum.wait_for(20s) == std::future_status::ready);
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 60s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
