// End-to-end `bbmd serve`: migrating, logs, metrics and health; kill -9, two processes, SQL pause, SIGTERM, holds.
#include <signal.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <iterator>
#include <set>
#include <thread>

#include "e2e/e2e_helpers.hpp"
#include "support/pgbouncer.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::http_get;
using bbmd::e2e::log_lines;
using bbmd::e2e::metric_sum;
using bbmd::e2e::metric_value;
using bbmd::e2e::start_serve;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kWorker = "registry.bbm.Worker";

long long jobs(TestDatabase& db, const std::string& where = "true") {
  return db.count("SELECT count(*) FROM background_migration_jobs WHERE " + where);
}

// Every row of t changed exactly once.
void check_every_row_changed_once(TestDatabase& db, int n) {
  CHECK(db.count("SELECT count(*) FROM t") == n);
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1") == 0);
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS DISTINCT FROM a") == 0);
}

// Threads of a running process, from /proc/<pid>/task.
long thread_count(pid_t pid) {
  const std::filesystem::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task");
  return std::distance(begin(tasks), end(tasks));
}

}  // namespace

TEST_CASE("serve migrates a table to finished with job logs, metrics and health endpoints", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 1000);
  ConfigFile cfg(db);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  const std::string name = "20260101000001_touch_t";
  const auto id = bbmd::e2e::queue_t_migration(db, name, "touch", 1000, 100);
  const std::string sid = std::to_string(id);

  auto serve = start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());

  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  check_every_row_changed_once(db, 1000);
  CHECK(db.rows("SELECT min(min_value), max(max_value), count(*), count(*) FILTER (WHERE status = 2), "
                "count(*) FILTER (WHERE attempts = 1), sum(rows_affected) FROM background_migration_jobs") ==
        Rows{{"1", "1000", "10", "10", "10", "1000"}});
  CHECK(db.rows("SELECT started_at IS NOT NULL, finished_at IS NOT NULL, failure_error_code IS NULL "
                "FROM batched_background_migrations") == Rows{{"t", "t", "t"}});

  // One "job finished" line per job, with the registry's field names and exact values.
  REQUIRE(poll_until([&] { return log_lines(serve->err(), kWorker, "job finished").size() == 10; }, 5s));
  auto finished = log_lines(serve->err(), kWorker, "job finished");
  std::sort(finished.begin(), finished.end(),
            [](const auto& a, const auto& b) { return a["job_start_id"] < b["job_start_id"]; });
  const auto& first = finished.front();
  INFO(first.dump());
  CHECK(first["level"] == "info");
  CHECK(first.contains("time"));
  CHECK(first["bbm_id"] == id);
  CHECK(first["bbm_name"] == name);
  CHECK(first["job_start_id"] == 1);
  CHECK(first["job_end_id"] == 100);
  CHECK(first["job_batch_size"] == 100);
  CHECK(first["job_attempts"] == 1);
  CHECK(first["rows_affected"] == 100);
  CHECK(first["duration_s"].is_number());
  CHECK(first["duration_s"].get<double>() >= 0.0);
  CHECK(first["job_id"].dump() ==
        db.scalar("SELECT id FROM background_migration_jobs WHERE min_value = 1"));
  const auto& last = finished.back();
  CHECK(last["job_start_id"] == 901);
  CHECK(last["job_end_id"] == 1000);

  // Metrics under the registry's names and labels.
  const auto metrics = http_get(*port, "/metrics");
  REQUIRE(metrics.status == 200);
  INFO(metrics.body);
  const auto runs = metric_value(metrics.body, "registry_bbm_runs_total");
  REQUIRE(runs.has_value());
  // A run goes from job to job through chained leases, so the 10 jobs may take a single run.
  CHECK(*runs >= 1);
  const std::string labels = "migration_id=\"" + sid + "\",migration_name=\"" + name + "\"";
  CHECK(metric_value(metrics.body, "registry_bbm_job_duration_seconds_count{" + labels + ",outcome=\"finished\"}") ==
        10.0);
  CHECK(metric_value(metrics.body, "registry_bbm_migrated_tuples_total{" + labels + "}") == 1000.0);
  CHECK(metric_sum(metrics.body, "registry_database_queries_total") > 0);

  const auto health = http_get(*port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok");
  const auto ready = http_get(*port, "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body == "ready");
  // One thread serves the loop, the pool, the workers and HTTP: nothing for ThreadSanitizer to check.
  CHECK(thread_count(serve->pid()) == 1);

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
  CHECK(log_lines(serve->err(), "bbmd.daemon", "bbmd stopped").size() == 1);
}

TEST_CASE("kill -9 inside a batch: the batch rolls back, another serve takes the job over", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 300);
  ConfigFile cfg(db, {{"database.backgroundmigrations.leaseduration", "2s"}});
  cfg.dir().write("functions/slow.sql", bbmd::e2e::sleepy_touch_sql("1.5"));
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000002_crash", "slow", 300, 100);

  {
    auto first = start_serve(cfg);
    REQUIRE(poll_until([&] { return bbmd::e2e::batch_is_sleeping(db); }, 10s));
    REQUIRE(db.rows("SELECT min_value, max_value, status, attempts FROM background_migration_jobs") ==
            Rows{{"1", "100", "1", "1"}});
    first->signal(SIGKILL);
    REQUIRE(first->wait_for_exit(5s) == -1);
  }

  auto second = start_serve(cfg);
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  check_every_row_changed_once(db, 300);
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, rows_affected FROM background_migration_jobs "
                "ORDER BY min_value") ==
        Rows{{"1", "100", "2", "2", "100"}, {"101", "200", "2", "1", "100"}, {"201", "300", "2", "1", "100"}});
  const auto takeovers = log_lines(second->err(), kWorker, "took over an expired lease");
  REQUIRE(takeovers.size() == 1);
  CHECK(takeovers[0]["job_start_id"] == 1);
  CHECK(takeovers[0]["job_attempts"] == 2);

  second->signal(SIGTERM);
  CHECK(second->wait_for_exit(10s) == 0);
}

TEST_CASE("two serve processes share one migration without overlap or repeats", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 5000);
  // Two jobs on the table at once (the default is one), so both processes lease side by side
  // and the ranges they cut must still never overlap.
  ConfigFile cfg(db, {{"database.backgroundmigrations.maxjobspertable", "2"}});
  cfg.dir().write("functions/paced.sql", bbmd::e2e::sleepy_touch_sql("0.04"));
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000003_shared", "paced", 5000, 100);

  // Both spawned before either is waited for, so they start together.
  bbmd::test::BbmdProcess a({"serve", cfg.path()});
  bbmd::test::BbmdProcess b({"serve", cfg.path()});
  REQUIRE(a.wait_for_log("bbmd serving", 10s));
  REQUIRE(b.wait_for_log("bbmd serving", 10s));

  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 60s));
  check_every_row_changed_once(db, 5000);
  CHECK(db.rows("SELECT count(*), count(*) FILTER (WHERE status = 2), sum(rows_affected) "
                "FROM background_migration_jobs") == Rows{{"50", "50", "5000"}});
  // No two job ranges overlap.
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs x JOIN background_migration_jobs y "
                 "ON x.id < y.id AND x.batched_background_migration_id = y.batched_background_migration_id "
                 "AND x.min_value <= y.max_value AND y.min_value <= x.max_value") == 0);
  // Both processes did work: lease_owner is "<host>:<pid>:<worker>" and stays on finished jobs.
  std::set<std::string> owners;
  for (const auto& r : db.rows("SELECT DISTINCT split_part(lease_owner, ':', 2) FROM background_migration_jobs")) {
    owners.insert(r[0]);
  }
  CHECK(owners == std::set<std::string>{std::to_string(a.pid()), std::to_string(b.pid())});
  REQUIRE(poll_until(
      [&] {
        return log_lines(a.err(), kWorker, "job finished").size() + log_lines(b.err(), kWorker, "job finished").size() ==
               50;
      },
      5s));
  CHECK(!log_lines(a.err(), kWorker, "job finished").empty());
  CHECK(!log_lines(b.err(), kWorker, "job finished").empty());

  a.signal(SIGTERM);
  b.signal(SIGTERM);
  CHECK(a.wait_for_exit(10s) == 0);
  CHECK(b.wait_for_exit(10s) == 0);
}

TEST_CASE("a pause written in SQL stops new jobs within one poll interval: resume finishes", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 2000);
  // backoff.max (the idle poll interval) is 200ms in the test config.
  ConfigFile cfg(db);
  cfg.dir().write("functions/paced.sql", bbmd::e2e::sleepy_touch_sql("0.1"));
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000004_pausable", "paced", 2000, 50);
  const std::string where_id = " WHERE id = " + std::to_string(id);

  auto serve = start_serve(cfg);
  REQUIRE(poll_until([&] { return jobs(db) >= 5; }, 20s));
  db.exec("UPDATE batched_background_migrations SET status = 0" + where_id);
  // The lease locks the migration row, so a lease racing the UPDATE committed before it: every
  // job the daemon will ever cut while paused already exists now.
  const auto at_pause = jobs(db);
  CHECK(at_pause < 40);
  // The in-flight batch may finish...
  REQUIRE(poll_until([&] { return jobs(db, "status = 1") == 0; }, 5s));
  // ...but no new job within two poll intervals plus a batch time (2 * 200ms + 100ms), with margin.
  std::this_thread::sleep_for(1s);
  CHECK(jobs(db) == at_pause);
  CHECK(jobs(db, "status = 1") == 0);
  CHECK(jobs(db, "status = 2") == at_pause);
  CHECK(bbmd::e2e::migration_status(db, id) == "0");
  CHECK(db.count("SELECT count(*) FROM t WHERE changes = 1") == 50 * at_pause);

  db.exec("UPDATE batched_background_migrations SET status = 1" + where_id);
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 30s));
  check_every_row_changed_once(db, 2000);
  CHECK(db.rows("SELECT count(*), count(*) FILTER (WHERE status = 2 AND attempts = 1), min(min_value), "
                "max(max_value) FROM background_migration_jobs") == Rows{{"40", "40", "1", "2000"}});

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("SIGTERM during a long batch: exit 0 after the shutdown timeout, lease released, rerun finishes",
          "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 200);
  // Through PgBouncer too: the cancel must reach the server process behind the pooler.
  const bool through_pgbouncer = GENERATE(false, true);
  INFO("through PgBouncer: " << through_pgbouncer);
  std::optional<bbmd::test::PgBouncer> bouncer;
  if (through_pgbouncer) bouncer.emplace(db.config());
  ConfigFile cfg(bouncer ? bouncer->config(db.name()) : db.config(),
                 {{"database.backgroundmigrations.shutdowntimeout", "1s"},
                  {"database.backgroundmigrations.listen", bouncer ? "false" : "true"}});
  cfg.dir().write("functions/slow.sql", bbmd::e2e::sleepy_touch_sql("30"));
  const auto id = bbmd::e2e::queue_t_migration(db, "20260101000005_long_batch", "slow", 200, 100);

  {
    auto serve = start_serve(cfg);
    REQUIRE(poll_until([&] { return bbmd::e2e::batch_is_sleeping(db); }, 10s));
    const auto t0 = std::chrono::steady_clock::now();
    serve->signal(SIGTERM);
    const auto code = serve->wait_for_exit(8s);
    const auto took = std::chrono::steady_clock::now() - t0;
    INFO(serve->err());
    REQUIRE(code == 0);
    CHECK(took < 8s);
    CHECK(took >= 900ms);  // it did give the batch its shutdown timeout
    CHECK(log_lines(serve->err(), kWorker, "job canceled for shutdown; lease released").size() == 1);
    CHECK(log_lines(serve->err(), "bbmd.daemon", "bbmd stopped").size() == 1);
  }
  // Canceled, not left running on the server.
  CHECK(poll_until([&] { return !bbmd::e2e::batch_is_sleeping(db); }, 3s));
  CHECK(db.rows("SELECT min_value, max_value, status, lease_owner IS NULL, lease_expires_at <= now() "
                "FROM background_migration_jobs") == Rows{{"1", "100", "1", "t", "t"}});
  CHECK(db.count("SELECT sum(changes) FROM t") == 0);
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS NOT NULL") == 0);

  // A fast version of the function ships with the next start; the released job is picked up at once.
  cfg.dir().write("functions/slow.sql", bbmd::e2e::touch_sql());
  auto again = start_serve(cfg);
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 20s));
  check_every_row_changed_once(db, 200);
  CHECK(db.rows("SELECT min_value, max_value, status FROM background_migration_jobs ORDER BY min_value") ==
        Rows{{"1", "100", "2"}, {"101", "200", "2"}});
  again->signal(SIGTERM);
  CHECK(again->wait_for_exit(10s) == 0);
}

TEST_CASE("without its partial index a null keyset migration is held, rechecked slowly, then runs",
          "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  const auto id = bbmd::test::queue_fill_n(db);
  // Test config: backoff.initial 20ms, backoff.max 200ms, jitter 0.2 (default), holdinterval 1s.
  ConfigFile cfg(db);

  auto serve = start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port.has_value());
  REQUIRE(poll_until([&] { return db.scalar("SELECT coalesce(hold_code, '') FROM batched_background_migrations") ==
                                  "missing_index"; },
                     10s));
  CHECK(db.rows("SELECT status, failure_error_code IS NULL, hold_until > now() FROM batched_background_migrations") ==
        Rows{{"1", "t", "t"}});
  CHECK(db.scalar("SELECT hold_reason FROM batched_background_migrations").find("CREATE INDEX CONCURRENTLY") !=
        std::string::npos);
  CHECK(jobs(db) == 0);
  REQUIRE(poll_until([&] { return !log_lines(serve->err(), kWorker, "background migration held").empty(); }, 5s));
  CHECK(log_lines(serve->err(), kWorker, "background migration held").front()["hold_code"] == "missing_index");

  // Let the idle backoff reach its cap (20+40+80+160ms), then count queries over 2s.
  std::this_thread::sleep_for(500ms);
  const auto scrape = [&] {
    const auto r = http_get(*port, "/metrics");
    REQUIRE(r.status == 200);
    return metric_sum(r.body, "registry_database_queries_total");
  };
  const double before = scrape();
  const auto hold_until_before = db.scalar("SELECT hold_until FROM batched_background_migrations");
  std::this_thread::sleep_for(2s);
  const double after = scrape();
  const double issued = after - before;
  INFO("queries issued in 2s while held: " << issued);
  // Bound: idle polls every >= 160ms (200ms - 20% jitter) -> at most 13 in 2s, one query each;
  // rechecks every >= 1s (holdinterval) -> at most 3, each a few catalog queries plus the hold
  // update (<= 10); the progress collector (every 15s) at most once (<= 3). 13 + 30 + 3 < 60.
  // A daemon that spun on the held row (no backoff) would issue thousands.
  CHECK(issued < 60);
  // And it is still polling (so operator edits are seen), not stuck.
  CHECK(issued >= 5);
  // It was rechecked in the window, at the hold interval's pace, and is still held.
  CHECK(db.scalar("SELECT hold_until > '" + hold_until_before + "'::timestamptz FROM batched_background_migrations") ==
        "t");
  CHECK(db.rows("SELECT status, hold_code FROM batched_background_migrations") == Rows{{"1", "missing_index"}});
  CHECK(jobs(db) == 0);

  // Once the index exists, the next recheck (within holdinterval) lets it run to the end.
  db.exec("CREATE INDEX n_v_null ON n (id) WHERE v IS NULL");
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, id) == "2"; }, 15s));
  CHECK(db.count("SELECT count(*) FROM n WHERE v IS NULL") == 0);
  CHECK(db.count("SELECT count(*) FROM n WHERE v = -1") == 66);
  CHECK(db.scalar("SELECT coalesce(hold_code, 'cleared') FROM batched_background_migrations") == "cleared");

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("SIGTERM and SIGINT stop an idle serve at once, even with a long poll interval", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  const auto [signal, overrides] = GENERATE(table<int, bbmd::test::ConfigOverrides>({
      {SIGTERM, {}},
      {SIGINT, {}},
      // Unreachable database: the workers are waiting to connect.
      {SIGTERM, {{"database.port", "1"}, {"database.host", "\"127.0.0.1\""}}},
  }));
  auto values = overrides;
  values["database.backgroundmigrations.backoff.initial"] = "20s";
  values["database.backgroundmigrations.backoff.max"] = "30s";
  ConfigFile cfg(db, values);
  auto serve = start_serve(cfg);
  // Once the first pass is counted, the worker is in its idle (or reconnect) wait.
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  REQUIRE(poll_until([&] { return metric_sum(http_get(*port, "/metrics").body, "registry_bbm_runs_total") >= 1; }, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  serve->signal(signal);
  const auto code = serve->wait_for_exit(10s);
  INFO(serve->err());
  CHECK(code == 0);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
}

TEST_CASE("SIGHUP reloads reloadable keys, warns about the others, and survives a broken file", "[e2e][serve]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  ConfigFile cfg(db);
  auto serve = start_serve(cfg);
  REQUIRE(serve->wait_for_log("worker starting", 5s));
  CHECK(serve->err().find("\"level\":\"debug\"") == std::string::npos);

  // A reloadable change (log.level) and one that needs a restart (workers).
  auto text = bbmd::test::read_text(cfg.path());
  const auto replace = [&](const std::string& from, const std::string& to) {
    const auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  replace("level: info", "level: debug");
  replace("backgroundmigrations:\n", "backgroundmigrations:\n    workers: 2\n");
  cfg.dir().write("config.yml", text);
  serve->signal(SIGHUP);
  REQUIRE(serve->wait_for_log("configuration reloaded", 5s));
  const auto warnings = log_lines(serve->err(), "bbmd.daemon", "config change needs a restart; keeping the running value");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0]["key"] == "database.backgroundmigrations.workers");
  // The new level applies: the idle worker's debug lines appear.
  CHECK(serve->wait_for_log("\"msg\":\"worker sleeping\"", 5s));

  // A broken file on reload: logged, the running configuration stays, the process lives.
  cfg.dir().write("config.yml", "database: [unclosed\n");
  serve->signal(SIGHUP);
  REQUIRE(serve->wait_for_log("configuration reload failed; keeping the running configuration", 5s));
  CHECK(serve->running());
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
