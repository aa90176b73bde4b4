// End-to-end bbmd CLI: config errors and secrets, version/usage, database migrate up, status, pause/resume, run.
#include <signal.h>

#include <catch2/catch.hpp>
#include <thread>

#include "e2e/e2e_helpers.hpp"
#include "schema/own_schema.hpp"

using namespace std::chrono_literals;
using bbmd::test::CommandResult;
using bbmd::test::ConfigFile;
using bbmd::test::run_bbmd;
using bbmd::test::TempDir;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

using bbmd::e2e::contains;
using bbmd::e2e::show;

namespace {

constexpr const char* kSecret = "hunter2-secret";

// A migration of `table` (shape of bbmd::e2e::make_table) by SQL work function `function`.
std::int64_t queue(TestDatabase& db, const std::string& name, const std::string& table, const std::string& function,
                   int rows, int batch_size, int status = 1) {
  bbmd::test::MigrationRow row;
  row.name = name;
  row.table_name = table;
  row.job_signature_name = function;
  row.job_arguments = "{}";
  row.max_value = rows;
  row.batch_size = batch_size;
  row.status = status;
  return bbmd::test::queue_migration(db, row);
}

std::string status_of(TestDatabase& db, const std::string& name) {
  return db.scalar("SELECT status FROM batched_background_migrations WHERE name = '" + name + "'");
}

}  // namespace

TEST_CASE("config errors exit 2 and name the file or key", "[e2e][cli][config]") {
  TestDatabase db;
  TempDir dir;

  SECTION("missing file") {
    const auto path = (dir.path() / "nope.yml").string();
    const auto r = run_bbmd({"background-migrate", "status", path});
    INFO(show(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, path));
    CHECK(contains(r.err, "cannot open"));
  }
  SECTION("bad YAML") {
    const auto path = dir.write("bad.yml", "database:\n  host: [unclosed\n").string();
    const auto r = run_bbmd({"background-migrate", "status", path});
    INFO(show(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, path));
    CHECK(contains(r.err, "invalid YAML"));
  }
  SECTION("unknown key") {
    ConfigFile cfg(db, {{"database.backgroundmigrations.jobintervall", "1s"}});
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()});
    INFO(show(r));
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "unknown key database.backgroundmigrations.jobintervall"));
    CHECK(contains(r.err, "did you mean database.backgroundmigrations.jobinterval?"));
    CHECK(contains(r.err, cfg.path()));
  }
  SECTION("bad duration") {
    ConfigFile cfg(db, {{"database.backgroundmigrations.jobinterval", "5 parsecs"}});
    const std::vector<std::vector<std::string>> commands = {{"serve", cfg.path()},
                                                            {"background-migrate", "status", cfg.path()},
                                                            {"background-migrate", "run", cfg.path()},
                                                            {"database", "migrate", "up", cfg.path()}};
    for (const auto& args : commands) {
      const auto r = run_bbmd(args, 20s);
      INFO(args.front() << ": " << show(r));
      CHECK(r.exit_code == 2);
      CHECK(contains(r.err, "database.backgroundmigrations.jobinterval"));
      CHECK(contains(r.err, "parsecs"));
    }
  }
}

TEST_CASE("the database password never appears in any output", "[e2e][cli][config][secret]") {
  TestDatabase db;
  const std::string secret = std::string("\"") + kSecret + "\"";
  const auto check_clean = [](const CommandResult& r) {
    INFO(show(r));
    CHECK_FALSE(contains(r.out, kSecret));
    CHECK_FALSE(contains(r.err, kSecret));
  };

  SECTION("a config error elsewhere in the file") {
    ConfigFile cfg(db, {{"database.password", secret}, {"database.backgroundmigrations.jobinterval", "5 parsecs"}});
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()});
    CHECK(r.exit_code == 2);
    check_clean(r);
  }
  SECTION("the password itself of the wrong type") {
    ConfigFile cfg(db, {{"database.password", "[" + secret + "]"}});
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "database.password"));
    check_clean(r);
  }
  SECTION("the password under a misspelt key") {
    ConfigFile cfg(db, {{"database.pasword", secret}});
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()});
    CHECK(r.exit_code == 2);
    CHECK(contains(r.err, "database.pasword"));
    check_clean(r);
  }
  SECTION("a YAML syntax error on the password's line") {
    TempDir dir;
    const auto path = dir.write("c.yml", std::string("database:\n  password: [") + kSecret + "\n  port: 1\n");
    const auto r = run_bbmd({"background-migrate", "status", path.string()});
    CHECK(r.exit_code == 2);
    check_clean(r);
  }
  SECTION("a database connection failure, from every command, at debug level") {
    ConfigFile cfg(db, {{"database.password", secret}, {"database.port", "1"}, {"database.host", "\"127.0.0.1\""},
                        {"log.level", "debug"}});
    const std::vector<std::vector<std::string>> commands = {
        {"background-migrate", "status", cfg.path()}, {"background-migrate", "status", "--json", cfg.path()},
        {"background-migrate", "pause", cfg.path()},  {"background-migrate", "resume", "x", cfg.path()},
        {"background-migrate", "run", cfg.path()},    {"database", "migrate", "up", cfg.path()}};
    for (const auto& args : commands) {
      const auto r = run_bbmd(args, 20s);
      INFO(args[1]);
      CHECK(r.exit_code == 1);
      CHECK_FALSE(r.err.empty());
      check_clean(r);
    }
    // serve keeps retrying; its logs must stay clean too.
    bbmd::test::BbmdProcess serve({"serve", cfg.path()});
    REQUIRE(serve.wait_for_log("bbmd serving", 10s));
    std::this_thread::sleep_for(1s);  // several connection attempts at backoff.max = 200ms
    serve.signal(SIGTERM);
    CHECK(serve.wait_for_exit(10s).has_value());
    check_clean({0, serve.out(), serve.err()});
  }
  SECTION("the password from the environment, with a connection failure") {
    ConfigFile cfg(db, {{"database.port", "1"}, {"database.host", "\"127.0.0.1\""}, {"log.level", "debug"}});
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()}, 20s, {{"REGISTRY_DATABASE_PASSWORD", kSecret}});
    CHECK(r.exit_code == 1);
    check_clean(r);
  }
  SECTION("the right server with this password, whatever it answers") {
    ConfigFile cfg(db, {{"database.password", secret}, {"log.level", "debug"}});
    check_clean(run_bbmd({"background-migrate", "status", cfg.path()}, 20s));
  }
}

TEST_CASE("version prints the version: unknown subcommands are usage errors", "[e2e][cli]") {
  const auto v = run_bbmd({"version"});
  INFO(show(v));
  CHECK(v.exit_code == 0);
  CHECK(v.out.rfind("bbmd ", 0) == 0);
  CHECK(v.out.size() > std::string("bbmd \n").size());

  CHECK(run_bbmd({"frobnicate"}).exit_code == 2);
  CHECK(run_bbmd({"background-migrate", "frobnicate", "x.yml"}).exit_code == 2);
  CHECK(run_bbmd({"background-migrate"}).exit_code == 2);
  CHECK(run_bbmd({}).exit_code == 2);
}

TEST_CASE("database migrate up applies bbmd's schema once", "[e2e][cli][schema]") {
  TestDatabase db;
  ConfigFile cfg(db);
  CHECK(db.scalar("SELECT to_regclass('public.batched_background_migrations') IS NULL") == "t");

  const auto first = run_bbmd({"database", "migrate", "up", cfg.path()});
  INFO(show(first));
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.out, "applying "));
  // Every one of bbmd's own schema migrations is applied, as pre-deployment migrations.
  const auto own = bbmd::schema::own_migrations().size();
  CHECK(contains(first.out, std::to_string(own) + " pre-deployment migration"));
  CHECK(db.count("SELECT count(*) FROM bbmd_schema_migrations") == static_cast<long long>(own));
  CHECK(db.scalar("SELECT to_regclass('public.batched_background_migrations') IS NOT NULL AND "
                  "to_regclass('public.background_migration_jobs') IS NOT NULL") == "t");
  // The tables work: a migration can be queued.
  bbmd::e2e::make_table(db, 10);
  CHECK(bbmd::e2e::queue_t_migration(db, "20260101000009_after_migrate", "touch", 10, 5) > 0);

  const auto second = run_bbmd({"database", "migrate", "up", cfg.path()});
  INFO(show(second));
  CHECK(second.exit_code == 0);
  CHECK(contains(second.out, "0 pre-deployment migrations"));
  CHECK_FALSE(contains(second.out, "applying"));
  CHECK(db.count("SELECT count(*) FROM batched_background_migrations") == 1);
}

TEST_CASE("status shows every migration: pause and resume by name touch only that one", "[e2e][cli][status]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 100);
  ConfigFile cfg(db);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  const std::string done = "20260101000010_done";
  const std::string active = "20260101000011_active";
  const std::string paused = "20260101000012_paused";
  queue(db, done, "public.t", "touch", 100, 50);
  REQUIRE(run_bbmd({"background-migrate", "run", cfg.path()}, 30s).exit_code == 0);
  queue(db, active, "public.t", "touch", 100, 50, 1);
  queue(db, paused, "public.t", "touch", 100, 50, 0);

  SECTION("table") {
    const auto r = run_bbmd({"background-migrate", "status", cfg.path()});
    INFO(show(r));
    REQUIRE(r.exit_code == 0);
    std::istringstream in(r.out);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    REQUIRE(lines.size() == 4);
    CHECK(lines[0].rfind("NAME", 0) == 0);
    for (const char* col : {"STATUS", "PROGRESS", "JOBS"}) CHECK(contains(lines[0], col));
    const auto has_row = [&](const std::string& name, const std::vector<std::string>& cells) {
      for (const auto& l : lines) {
        if (l.rfind(name + " ", 0) != 0) continue;
        std::istringstream words(l.substr(name.size()));
        std::vector<std::string> got;
        for (std::string w; words >> w && got.size() < cells.size();) got.push_back(w);
        return got == cells;
      }
      return false;
    };
    CHECK(has_row(done, {"finished", "100.0%", "2/2"}));
    CHECK(has_row(active, {"active", "0.0%", "0/0"}));
    CHECK(has_row(paused, {"paused", "0.0%", "0/0"}));
  }

  SECTION("json") {
    const auto r = run_bbmd({"background-migrate", "status", "--json", cfg.path()});
    INFO(show(r));
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    REQUIRE(j["migrations"].size() == 3);
    const auto& m = j["migrations"][0];
    CHECK(m["name"] == done);
    CHECK(m["status"] == "finished");
    CHECK(m["status_code"] == 2);
    CHECK(m["table_name"] == "public.t");
    CHECK(m["job_signature_name"] == "touch");
    CHECK(m["progress_percent"] == 100.0);
    CHECK(m["jobs_finished"] == 2);
    CHECK(m["jobs_failed"] == 0);
    CHECK(m["jobs_active"] == 0);
    CHECK(m["jobs_total"] == 2);
    CHECK(m["rows_affected"] == 100);
    CHECK(m["failure_error_code"].is_null());
    CHECK(m["finished_at"].is_string());
    CHECK(j["migrations"][1]["name"] == active);
    CHECK(j["migrations"][1]["status"] == "active");
    CHECK(j["migrations"][2]["name"] == paused);
    CHECK(j["migrations"][2]["status"] == "paused");
  }

  SECTION("pause and resume by name") {
    auto r = run_bbmd({"background-migrate", "pause", active, cfg.path()});
    INFO(show(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "paused 1 batched background migration\n");
    CHECK(status_of(db, done) == "2");
    CHECK(status_of(db, active) == "0");
    CHECK(status_of(db, paused) == "0");

    r = run_bbmd({"background-migrate", "resume", paused, cfg.path()});
    INFO(show(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "resumed 1 batched background migration\n");
    CHECK(status_of(db, done) == "2");
    CHECK(status_of(db, active) == "0");
    CHECK(status_of(db, paused) == "1");

    r = run_bbmd({"background-migrate", "pause", "20991231000000_no_such_migration", cfg.path()});
    INFO(show(r));
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "20991231000000_no_such_migration"));
    CHECK(status_of(db, paused) == "1");

    r = run_bbmd({"background-migrate", "resume", "20991231000000_no_such_migration", cfg.path()});
    CHECK(r.exit_code == 1);
    CHECK(contains(r.err, "20991231000000_no_such_migration"));
  }

  SECTION("pause and resume all") {
    auto r = run_bbmd({"background-migrate", "pause", cfg.path()});
    INFO(show(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == "paused 1 batched background migration\n");
    CHECK(db.rows("SELECT status FROM batched_background_migrations ORDER BY id") == Rows{{"2"}, {"0"}, {"0"}});
    r = run_bbmd({"background-migrate", "resume", cfg.path()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "resumed 2 batched background migrations\n");
    CHECK(db.rows("SELECT status FROM batched_background_migrations ORDER BY id") == Rows{{"2"}, {"1"}, {"1"}});
  }
}

TEST_CASE("background-migrate run finishes what can finish and fails, bounded, on what cannot", "[e2e][cli][run]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 300);
  db.exec("CREATE TABLE u (LIKE t INCLUDING ALL)");
  db.exec("INSERT INTO u SELECT * FROM t WHERE id <= 100");
  db.exec("CREATE TABLE gate (open boolean)");
  ConfigFile cfg(db);
  cfg.dir().write("functions/touch.sql", bbmd::e2e::touch_sql());
  // Divides by zero until the gate table has a row.
  cfg.dir().write("functions/gated.sql",
                  "UPDATE {{table}} SET changes = changes + 1, b = a WHERE {{column}} BETWEEN $1 AND $2 "
                  "AND 1 / (SELECT count(*) FROM gate)::int = 1");
  const std::string blocked = "20260101000020_blocked";
  queue(db, blocked, "public.u", "gated", 100, 100);

  // Always failing: each job gets exactly --max-job-retry attempts, then the command ends with 1.
  const auto failing = run_bbmd({"background-migrate", "run", cfg.path(), "--max-job-retry", "2"}, 30s);
  INFO(show(failing));
  REQUIRE(failing.exit_code == 1);
  CHECK(contains(failing.err, blocked + " could not finish"));
  CHECK(contains(failing.err, "code 4"));
  CHECK(contains(failing.out, "some could not finish"));
  CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations") == Rows{{"3", "4"}});
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, last_error LIKE '%division by zero%' "
                "FROM background_migration_jobs") == Rows{{"1", "100", "3", "2", "t"}});
  CHECK(db.count("SELECT sum(changes) FROM u") == 0);

  // The cause is fixed; a new migration is queued next to the failed one: run finishes both.
  db.exec("INSERT INTO gate VALUES (true)");
  const std::string fresh = "20260101000021_fresh";
  queue(db, fresh, "public.t", "touch", 300, 100);
  const auto ok = run_bbmd({"background-migrate", "run", cfg.path()}, 30s);
  INFO(show(ok));
  REQUIRE(ok.exit_code == 0);
  CHECK(contains(ok.out, "2 batched background migrations processed, all finished"));
  CHECK(db.rows("SELECT name, status, failure_error_code IS NULL FROM batched_background_migrations ORDER BY id") ==
        Rows{{blocked, "2", "t"}, {fresh, "2", "t"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE changes <> 1 OR b IS DISTINCT FROM a") == 0);
  CHECK(db.count("SELECT count(*) FROM u WHERE changes <> 1 OR b IS DISTINCT FROM a") == 0);
  CHECK(db.count("SELECT count(*) FROM background_migration_jobs WHERE status <> 2") == 0);

  // Nothing left to do: exit 0 at once.
  const auto again = run_bbmd({"background-migrate", "run", cfg.path()}, 30s);
  INFO(show(again));
  CHECK(again.exit_code == 0);
}
