// Operator edits at once: `bbmd serve` LISTENs for the migrations table's trigger, so a newly
// queued migration and a resume in SQL start within a second although the idle workers back off
// for half a minute; the listener comes back after its session is killed.
#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::log_lines;
using bbmd::e2e::start_serve;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;

namespace {

constexpr const char* kWorker = "registry.bbm.Worker";

// Backoff far above anything the checks wait for: only a wake-up can explain a quick start.
const bbmd::test::ConfigOverrides kSlowPolling = {
    {"database.backgroundmigrations.backoff.initial", "40s"},
    {"database.backgroundmigrations.backoff.max", "60s"},
    {"log.level", "debug"},
};

long long jobs_of(TestDatabase& db, std::int64_t id) {
  return db.count("SELECT count(*) FROM background_migration_jobs WHERE batched_background_migration_id = " +
                  std::to_string(id));
}

// The number of "worker sleeping" lines for an idle pass with a sleep of at least 30 s.
std::size_t long_idle_sleeps(const std::string& log) {
  std::size_t n = 0;
  for (const auto& line : log_lines(log, kWorker, "worker sleeping")) {
    if (line.value("reason", "") == "idle" && line.value("sleep_s", 0.0) >= 30.0) ++n;
  }
  return n;
}

// A table t of `rows`, the SQL work function `function`, and `bbmd serve` polling slowly, ready
// once it listens and its worker has begun a long idle sleep.
struct IdleListeningServe {
  TestDatabase db;
  ConfigFile cfg{db, kSlowPolling};
  std::unique_ptr<bbmd::test::BbmdProcess> serve;

  IdleListeningServe(int rows, const std::string& function, const std::string& sql) {
    bbmd::test::apply_bbmd_schema(db);
    bbmd::e2e::make_table(db, rows);
    cfg.dir().write("functions/" + function + ".sql", sql);
    serve = start_serve(cfg);
    INFO(serve->err());
    REQUIRE(poll_until([&] { return !log_lines(serve->err(), kWorker, "listening for migration changes").empty(); }, 10s));
    REQUIRE(poll_until([&] { return long_idle_sleeps(serve->err()) >= 1; }, 10s));
  }
};

}  // namespace

TEST_CASE("serve starts a newly queued migration and a resumed one at once, not at the next poll",
          "[e2e][serve][listen]") {
  IdleListeningServe f(600, "sleepy", bbmd::e2e::sleepy_touch_sql("0.3"));
  auto& db = f.db;
  INFO(f.serve->err());

  // Queued while the worker sleeps 40 s: a job within a few seconds.
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000001_sleepy_t", "sleepy", 600, 100);
  CHECK(poll_until([&] { return jobs_of(db, id) >= 1; }, 5s));

  // Paused in SQL: the running batch finishes, nothing more is leased, the worker goes idle.
  const auto sleeps_before = long_idle_sleeps(f.serve->err());
  db.exec("UPDATE batched_background_migrations SET status = 0 WHERE id = " + std::to_string(id));
  REQUIRE(poll_until([&] {
    return long_idle_sleeps(f.serve->err()) > sleeps_before &&
           db.count("SELECT count(*) FROM background_migration_jobs WHERE status <> 2") == 0;
  }, 10s));
  const auto jobs_paused = jobs_of(db, id);
  CHECK(jobs_paused < 6);

  // Resumed in SQL: the next job starts at once, and the migration finishes.
  db.exec("UPDATE batched_background_migrations SET status = 1 WHERE id = " + std::to_string(id));
  CHECK(poll_until([&] { return jobs_of(db, id) > jobs_paused; }, 5s));
  CHECK(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 20s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
}

TEST_CASE("serve's change listener reconnects after its session is killed and wakes the workers again",
          "[e2e][serve][listen]") {
  IdleListeningServe f(300, "touch", bbmd::e2e::touch_sql());
  auto& db = f.db;
  INFO(f.serve->err());
  REQUIRE(db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bbmd-listen'") == 1);

  db.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bbmd-listen'");
  REQUIRE(poll_until([&] { return !log_lines(f.serve->err(), kWorker, "change listener lost its connection; workers poll until it is back").empty(); }, 10s));
  REQUIRE(poll_until([&] { return log_lines(f.serve->err(), kWorker, "listening for migration changes").size() == 2; }, 10s));

  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000002_touch_t", "touch", 300, 100);
  CHECK(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 5s));
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
}

TEST_CASE("serve with backgroundmigrations.listen false opens no LISTEN session", "[e2e][serve][listen]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  ConfigFile cfg(db, {{"database.backgroundmigrations.listen", "false"}, {"log.level", "debug"}});
  auto serve = start_serve(cfg);
  INFO(serve->err());
  // The worker has polled and gone idle, so every session serve opens at start exists.
  REQUIRE(poll_until([&] { return !log_lines(serve->err(), kWorker, "worker sleeping").empty(); }, 10s));
  REQUIRE(db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bbmd'") >= 1);
  CHECK(db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bbmd-listen'") == 0);
  CHECK(log_lines(serve->err(), kWorker, "listening for migration changes").empty());
}
