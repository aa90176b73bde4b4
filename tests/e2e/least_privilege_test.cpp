// Least privilege: the README's "Database privileges" block, run as written, is all bbmd needs:
// the owner applies the schema migrations, the runtime role migrates every row once, a table it
// was not granted is held untouched while other work goes on, and a missing pg_monitor is named.
#include <signal.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "e2e/e2e_helpers.hpp"
#include "support/roles.hpp"

using namespace std::chrono_literals;
using bbmd::test::DroppedRoles;
using bbmd::e2e::http_get;
using bbmd::e2e::log_lines;
using bbmd::test::login_as;
using bbmd::test::role_name;
using bbmd::test::ConfigFile;
using bbmd::test::poll_until;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

constexpr const char* kWorker = "registry.bbm.Worker";
constexpr int kRows = 1000;
const std::string kOwnerPassword = "owner-pw-4821";
const std::string kRuntimePassword = "runtime-pw-9377";

// The README's SQL block, split where it switches from the superuser to the owner.
struct DocumentedGrants {
  std::string as_superuser;
  std::string as_owner;
};

DocumentedGrants documented_grants() {
  std::ifstream in(std::string(BBMD_SOURCE_DIR) + "/README.md");
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  const auto section = readme.find("\n## Database privileges\n");
  REQUIRE(section != std::string::npos);
  const auto open = readme.find("```sql\n", section);
  REQUIRE(open != std::string::npos);
  const auto body = open + 7;
  const auto close = readme.find("```", body);
  const std::string block = readme.substr(body, close - body);
  const auto owner_part = block.find("-- As bbmd_owner");
  REQUIRE(owner_part != std::string::npos);
  return {block.substr(0, owner_part), block.substr(owner_part)};
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// The documented roles under this test's names, with their own passwords.
std::string for_test(const TestDatabase& db, std::string sql, const std::string& password) {
  sql = replace_all(sql, "bbmd_owner", role_name(db, "bbmd_owner"));
  sql = replace_all(sql, "bbmd_runtime", role_name(db, "bbmd_runtime"));
  return replace_all(sql, "'change-me'", "'" + password + "'");
}

// The application's pre-deployment migration, applied by the owner: the table the README grants
// (items, with its serial_no sequence and the partial index null keyset batching needs) and two
// BBMs on it, one for the `touch` SQL function and one for fill_from_sequence.
std::string create_items_sql() {
  return "CREATE TABLE items (id bigint PRIMARY KEY, a int NOT NULL, b bigint, changes int NOT NULL DEFAULT 0,"
         " serial_no bigint);\n"
         "INSERT INTO items (id, a) SELECT g, g * 10 FROM generate_series(1, " + std::to_string(kRows) + ") g;\n"
         "CREATE SEQUENCE items_serial_no_seq;\n"
         "CREATE INDEX items_serial_no_null ON items (id) WHERE serial_no IS NULL;\n"
         "INSERT INTO batched_background_migrations (name, table_name, column_name, job_signature_name,"
         " job_arguments, batching_strategy, min_value, max_value, batch_size, status) VALUES\n"
         " ('20260301000001_touch_items', 'public.items', 'id', 'touch', '{}', NULL, 1, " + std::to_string(kRows) +
         ", 100, 1),\n"
         " ('20260301000002_fill_serial_no', 'public.items', 'serial_no', 'fill_from_sequence',"
         " '{\"sequence\": \"public.items_serial_no_seq\"}', 'null_keyset', 1, " + std::to_string(kRows) +
         ", 100, 1);\n";
}

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

std::int64_t migration_id(TestDatabase& db, const std::string& name) {
  return db.count("SELECT id FROM batched_background_migrations WHERE name = '" + name + "'");
}

// A database where the owner has applied bbmd's schema and the items migration, and both
// documented grant steps have run.
struct DocumentedSetup {
  DocumentedSetup()
      : roles(db, {role_name(db, "bbmd_runtime"), role_name(db, "bbmd_owner")}),
        owner_cfg(login_as(db, role_name(db, "bbmd_owner"), kOwnerPassword),
                  {{"database.migrations.pre", quoted((dirs.path() / "pre").string())},
                   {"database.migrations.post", quoted((dirs.path() / "post").string())}}) {
    const auto grants = documented_grants();
    db.exec(for_test(db, grants.as_superuser, kOwnerPassword));
    // The runtime role logs in with a password of its own.
    db.exec("ALTER ROLE " + runtime() + " PASSWORD '" + kRuntimePassword + "'");
    dirs.write("pre/20260301000000_create_items.up.sql", create_items_sql());
    dirs.write("pre/20260301000000_create_items.down.sql", "DROP TABLE items; DROP SEQUENCE items_serial_no_seq;");
    std::filesystem::create_directories(dirs.path() / "post");
    up = bbmd::test::run_bbmd({"database", "migrate", "up", owner_cfg.path()}, 60s);
    owner_grants = for_test(db, grants.as_owner, kOwnerPassword);
  }
  [[nodiscard]] std::string runtime() const { return role_name(db, "bbmd_runtime"); }
  [[nodiscard]] std::string owner() const { return role_name(db, "bbmd_owner"); }
  void require_applied() const {
    INFO(up.out << up.err);
    REQUIRE(up.exit_code == 0);
  }
  // Runs the README's second step in the owner's name.
  void grant_as_owner() { db.exec("SET ROLE " + owner() + ";\n" + owner_grants + "RESET ROLE;"); }

  TestDatabase db;
  DroppedRoles roles;
  bbmd::test::TempDir dirs;
  ConfigFile owner_cfg;
  bbmd::test::CommandResult up;
  std::string owner_grants;
};

void check_items_migrated_once(TestDatabase& db) {
  CHECK(db.rows("SELECT count(*), count(*) FILTER (WHERE changes = 1), count(*) FILTER (WHERE b = a), "
                "count(DISTINCT serial_no), min(serial_no), max(serial_no) FROM items") ==
        Rows{{"1000", "1000", "1000", "1000", "1", "1000"}});
}

}  // namespace

TEST_CASE("the documented roles migrate every row once, and an ungranted table is held untouched until granted",
          "[e2e][privilege]") {
  DocumentedSetup s;
  s.require_applied();
  auto& db = s.db;
  // The owner owns bbmd's tables and the application's.
  CHECK(db.rows("SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename") ==
        Rows{{"background_migration_jobs", s.owner()},
             {"batched_background_migrations", s.owner()},
             {"bbmd_post_deploy_schema_migrations", s.owner()},
             {"bbmd_schema_migrations", s.owner()},
             {"items", s.owner()}});
  s.grant_as_owner();

  // A table nobody granted to the runtime role, with a migration on it that has the lowest id,
  // so that every pass meets it before the granted ones.
  bbmd::e2e::make_table(db, 300);
  const auto queued = bbmd::e2e::queue_t_migration(db, "20260301000000_touch_t", "touch", 300, 100);
  db.exec("UPDATE batched_background_migrations SET id = 0 WHERE id = " + std::to_string(queued));
  const std::int64_t denied = 0;
  const auto touch = migration_id(db, "20260301000001_touch_items");
  const auto fill = migration_id(db, "20260301000002_fill_serial_no");
  REQUIRE(denied < touch);

  ConfigFile cfg(login_as(db, s.runtime(), kRuntimePassword), {{"log.level", "debug"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);

  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, touch) == "2" &&
                                  bbmd::e2e::migration_status(db, fill) == "2"; }, 60s));
  check_items_migrated_once(db);
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs WHERE status <> 2 OR attempts <> 1") == 0);

  // The ungranted table: held with the permission named, not a row read or written.
  const std::string reason = "permission denied: role \"" + s.runtime() +
                             "\" lacks SELECT, UPDATE on public.t; run GRANT SELECT, UPDATE ON \"public\".\"t\" TO \"" +
                             s.runtime() + "\"";
  CHECK(db.rows("SELECT status, hold_code, hold_reason, failure_error_code IS NULL FROM batched_background_migrations "
                "WHERE id = " + std::to_string(denied)) == Rows{{"1", "insufficient_privilege", reason, "t"}});
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs WHERE batched_background_migration_id = " +
                 std::to_string(denied)) == 0);
  CHECK(db.rows("SELECT count(*) FILTER (WHERE changes = 0 AND b IS NULL) FROM t") == Rows{{"300"}});
  const auto held = log_lines(serve->err(), kWorker, "background migration held");
  REQUIRE(held.size() == 1);
  CHECK(held[0]["bbm_id"] == denied);
  CHECK(held[0]["hold_code"] == "insufficient_privilege");
  CHECK(held[0]["reason"] == reason);
  const auto status = bbmd::test::run_bbmd({"background-migrate", "status", cfg.path(), "--json"});
  REQUIRE(status.exit_code == 0);
  INFO(status.out);
  const auto listing = nlohmann::json::parse(status.out);
  bool listed = false;
  for (const auto& m : listing["migrations"]) {
    if (m["id"] == denied) {
      listed = true;
      CHECK(m["hold_reason"] == reason);
    }
  }
  CHECK(listed);
  // pg_monitor is granted: every throttle check could read what it needs.
  CHECK(log_lines(serve->err(), kWorker, "throttle indicator failed; treating it as go").empty());
  const auto metrics = http_get(*port, "/metrics");
  CHECK(bbmd::e2e::metric_sum(metrics.body, "registry_bbm_throttle_indicator_errors_total") == 0);
  CHECK(serve->running());
  CHECK(http_get(*port, "/readyz").status == 200);

  // The grant is the whole fix: the next recheck starts it, and it runs to the end.
  db.exec("GRANT SELECT, UPDATE ON t TO " + s.runtime());
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(db, denied) == "2"; }, 30s));
  CHECK(db.rows("SELECT count(*) FILTER (WHERE changes = 1 AND b = a), count(*) FROM t") == Rows{{"300", "300"}});
  CHECK(db.rows("SELECT hold_code IS NULL, hold_reason IS NULL FROM batched_background_migrations WHERE id = " +
                std::to_string(denied)) == Rows{{"t", "t"}});

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("without pg_monitor the statistics checks log and count a named error instead of a blind go",
          "[e2e][privilege]") {
  DocumentedSetup s;
  s.require_applied();
  s.grant_as_owner();
  s.db.exec("REVOKE pg_monitor FROM " + s.runtime());

  // The WAL rate check (off by default) on too, to show it needs no grant either.
  ConfigFile cfg(login_as(s.db, s.runtime(), kRuntimePassword),
                 {{"database.backgroundmigrations.throttle.walrate.enabled", "true"}});
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  const auto touch = migration_id(s.db, "20260301000001_touch_items");
  const auto fill = migration_id(s.db, "20260301000002_fill_serial_no");
  REQUIRE(poll_until([&] { return bbmd::e2e::migration_status(s.db, touch) == "2" &&
                                  bbmd::e2e::migration_status(s.db, fill) == "2"; }, 60s));
  check_items_migrated_once(s.db);

  const std::map<std::string, std::string> views = {{"autovacuum", "pg_stat_progress_vacuum"},
                                                    {"oldest_transaction", "pg_stat_activity"},
                                                    {"replication_lag", "pg_stat_replication"}};
  std::map<std::string, std::string> errors;
  for (const auto& line : log_lines(serve->err(), kWorker, "throttle indicator failed; treating it as go")) {
    CHECK(line["level"] == "warn");
    errors[line["reason"]] = line["error"];
  }
  REQUIRE(errors.size() == views.size());
  const auto metrics = http_get(*port, "/metrics");
  INFO(metrics.body);
  for (const auto& [indicator, view] : views) {
    CHECK(errors[indicator] == "role \"" + s.runtime() + "\" cannot see other sessions in " + view +
                                   " (PostgreSQL hides them without pg_read_all_stats): GRANT pg_monitor TO \"" +
                                   s.runtime() + "\", or disable this indicator");
    const auto count = bbmd::e2e::metric_value(
        metrics.body, "registry_bbm_throttle_indicator_errors_total{indicator=\"" + indicator + "\"}");
    REQUIRE(count);
    CHECK(*count >= 1);
  }
  // The checks every role may read still answer.
  CHECK(errors.count("wal_archive_backlog") == 0);
  CHECK(errors.count("replication_slot_retention") == 0);
  CHECK(errors.count("wal_rate") == 0);

  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}

TEST_CASE("without the grants on bbmd's own tables serve keeps running, names the table it may not read and is not ready",
          "[e2e][privilege]") {
  DocumentedSetup s;
  s.require_applied();
  // The superuser step only: the owner never ran its GRANTs.
  ConfigFile cfg(login_as(s.db, s.runtime(), kRuntimePassword));
  auto serve = bbmd::e2e::start_serve(cfg);
  const auto port = bbmd::test::debug_port(serve->err());
  REQUIRE(port);
  REQUIRE(serve->wait_for_log("\"msg\":\"pending migration check failed\"", 10s));
  REQUIRE(serve->wait_for_log("\"msg\":\"worker pass failed\"", 10s));
  const auto passes = log_lines(serve->err(), kWorker, "worker pass failed");
  CHECK(passes.front()["error"] == "ERROR:  permission denied for table batched_background_migrations");
  const auto pending = log_lines(serve->err(), "bbmd.migrate", "pending migration check failed");
  REQUIRE(pending.size() == 1);
  CHECK(pending[0]["error"] == "ERROR:  permission denied for table bbmd_schema_migrations");
  CHECK(serve->running());
  CHECK(s.db.rows("SELECT count(*) FILTER (WHERE changes = 0) FROM items") == Rows{{"1000"}});
  // /readyz names every grant the worker lacks, so a rollout stops here visibly.
  const auto ready = http_get(*port, "/readyz");
  CHECK(ready.status == 503);
  CHECK(ready.body == "permission denied: role \"" + s.runtime() + "\" lacks SELECT, UPDATE ON "
                      "batched_background_migrations; SELECT, INSERT, UPDATE ON background_migration_jobs; USAGE ON "
                      "SEQUENCE bbm_lease_token_seq; grant them as the README's \"Database privileges\" shows");
  // Granted (here, all but the jobs table's INSERT), it names only what is still missing.
  s.db.exec("GRANT SELECT, UPDATE ON batched_background_migrations TO " + s.runtime() + "; GRANT SELECT, UPDATE ON "
            "background_migration_jobs TO " + s.runtime() + "; GRANT USAGE ON SEQUENCE bbm_lease_token_seq TO " +
            s.runtime());
  const auto partly = http_get(*port, "/readyz");
  CHECK(partly.status == 503);
  CHECK(partly.body == "permission denied: role \"" + s.runtime() + "\" lacks SELECT, INSERT, UPDATE ON "
                       "background_migration_jobs; grant them as the README's \"Database privileges\" shows");
  s.db.exec("GRANT INSERT ON background_migration_jobs TO " + s.runtime());
  CHECK(http_get(*port, "/readyz").status == 200);
  serve->signal(SIGTERM);
  CHECK(serve->wait_for_exit(10s) == 0);
}
