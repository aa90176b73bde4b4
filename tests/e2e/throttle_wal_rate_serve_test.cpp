// `bbmd serve` under a WAL-rate ceiling: a ceiling below what the migration writes holds it with
// reason wal_rate; a high ceiling (reloaded with SIGHUP) lets it finish, every row changed once.
#include <signal.h>

#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::log_lines;
using bbmd::test::poll_until;

TEST_CASE("a low WAL-rate ceiling holds the migration, a high one lets it finish", "[e2e][throttle]") {
  bbmd::test::TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 3000);
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000000_touch", "touch", 3000, 30);
  const bbmd::test::ConfigOverrides low = {{"database.backgroundmigrations.throttle.walrate.enabled", "true"},
                                           {"database.backgroundmigrations.throttle.walrate.maxbytespersecond", "1"},
                                           {"database.backgroundmigrations.throttle.checkinterval", "0s"}};
  bbmd::test::ConfigFile cfg(db, low);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::sleepy_touch_sql("0.05"));
  auto serve = bbmd::e2e::start_serve(cfg);
  // The first check only takes a sample; the batches' own WAL then exceeds 1 byte/s.
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 20s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "wal_rate");
  CHECK(bbmd::e2e::migration_status(db, id) != "2");

  // A ceiling far above any rate this machine writes: reloaded, the migration goes on.
  const auto text = bbmd::test::read_text(cfg.path());
  const auto at = text.find("maxbytespersecond: 1\n");
  REQUIRE(at != std::string::npos);
  cfg.dir().write("config.yml", text.substr(0, at) + "maxbytespersecond: 1e12\n" +
                                    text.substr(at + std::string("maxbytespersecond: 1\n").size()));
  serve->signal(SIGHUP);
  REQUIRE(serve->wait_for_log("configuration reloaded", 5s));
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 60s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
