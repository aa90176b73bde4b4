// `bbmd serve` against servers of the test's own: a streaming standby whose replay is paused, and a
// primary whose WAL archiving fails, each hold the migration with its reason until the signal clears.
#include <signal.h>

#include <catch2/catch.hpp>

#include "e2e/e2e_helpers.hpp"
#include "schema/own_schema.hpp"
#include "support/pg_cluster.hpp"

using namespace std::chrono_literals;
using bbmd::e2e::log_lines;
using bbmd::test::poll_until;

TEST_CASE("serve holds a migration while a standby lags and finishes once it replays", "[e2e][throttle]") {
  bbmd::test::PgCluster primary;
  auto standby = primary.create_standby({"wal_receiver_status_interval = 1s"});
  REQUIRE(poll_until(
      [&] { return primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"; },
      30s));
  for (const auto& m : bbmd::schema::own_migrations()) primary.exec(m.up_sql);
  primary.exec(bbmd::test::t_table_sql(1000));
  primary.exec("CREATE TABLE ballast (pad text)");
  primary.exec(
      "INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name, max_value, "
      "batch_size, status) VALUES ('20260101000000_touch', 'public.t', 'id', 'touch', 1000, 100, 0)");

  // Replay paused, then ~1.5 MB of WAL the standby receives but does not replay.
  standby->exec("SELECT pg_wal_replay_pause()");
  primary.exec("INSERT INTO ballast SELECT repeat('x', 200) FROM generate_series(1, 6000)");
  REQUIRE(poll_until([&] { return primary.scalar("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 262144 "
                                                 "FROM pg_stat_replication") == "t"; },
                     30s));

  bbmd::test::ConfigFile cfg(primary.config(), {{"database.backgroundmigrations.throttle.replicationlag.maxbytes", "262144"},
                                                {"database.backgroundmigrations.throttle.checkinterval", "0s"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  primary.exec("UPDATE batched_background_migrations SET status = 1");
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 15s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "replication_lag");
  CHECK(primary.scalar("SELECT hold_code FROM batched_background_migrations") == "throttled");
  CHECK(primary.scalar("SELECT count(*) FROM background_migration_jobs") == "0");

  standby->exec("SELECT pg_wal_replay_resume()");
  REQUIRE(poll_until([&] { return primary.scalar("SELECT status FROM batched_background_migrations") == "2"; }, 60s));
  CHECK(primary.scalar("SELECT count(*) FROM t WHERE changes <> 1") == "0");
  CHECK(primary.scalar("SELECT hold_code IS NULL FROM batched_background_migrations") == "t");
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("serve holds a migration while WAL archiving falls behind and goes on once it catches up",
          "[e2e][throttle]") {
  // 1 MB segments: the backlog is counted in the server's real segment size.
  bbmd::test::PgCluster primary({.initdb_args = {"--wal-segsize=1"},
                                 .settings = {"archive_mode = on", "archive_command = '/bin/false'"}});
  for (const auto& m : bbmd::schema::own_migrations()) primary.exec(m.up_sql);
  primary.exec(bbmd::test::t_table_sql(1000));
  primary.exec(
      "INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name, max_value, "
      "batch_size, status) VALUES ('20260101000000_touch', 'public.t', 'id', 'touch', 1000, 100, 1)");
  // Five completed segments the failing archive_command cannot archive.
  for (int i = 0; i < 5; ++i) {
    primary.exec("CREATE TABLE IF NOT EXISTS ballast (pad text); INSERT INTO ballast VALUES ('x')");
    primary.exec("SELECT pg_switch_wal()");
  }
  REQUIRE(poll_until([&] { return primary.scalar("SELECT failed_count > 0 FROM pg_stat_archiver") == "t"; }, 30s));

  bbmd::test::ConfigFile cfg(primary.config(), {{"database.backgroundmigrations.throttle.walarchive.maxsegments", "3"},
                                                {"database.backgroundmigrations.throttle.checkinterval", "0s"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  REQUIRE(serve->wait_for_log("\"msg\":\"background migration throttled\"", 15s));
  const auto throttled = log_lines(serve->err(), "registry.bbm.Worker", "background migration throttled");
  REQUIRE(!throttled.empty());
  CHECK(throttled.front()["reason"] == "wal_archive_backlog");
  CHECK(primary.scalar("SELECT count(*) FROM background_migration_jobs") == "0");

  // Archiving works again: the backlog drains and the migration finishes.
  primary.exec("ALTER SYSTEM SET archive_command = '/bin/true'");
  primary.exec("SELECT pg_reload_conf()");
  REQUIRE(poll_until([&] { return primary.scalar("SELECT status FROM batched_background_migrations") == "2"; }, 60s));
  CHECK(primary.scalar("SELECT count(*) FROM t WHERE changes <> 1") == "0");
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
