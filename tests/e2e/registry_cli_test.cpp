// The registry's CLI as its runbooks and pipelines call it: short flags of `database migrate
// up|down|status`, the `OK: applied ...` line, `status -u`, `background-migrate run -r` with the
// registry's default and range, `bbmd --version`.
#include <catch2/catch.hpp>
#include <regex>

#include "e2e/e2e_helpers.hpp"
#include "e2e/migrate_support.hpp"
#include "schema/own_schema.hpp"

using namespace std::chrono_literals;
using bbmd::test::t_table_sql;
using bbmd::e2e::MigrateSetup;
using bbmd::e2e::queue_bbm_sql;
using bbmd::test::CommandResult;
using bbmd::test::run_bbmd;

namespace {

std::string show(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout:\n" + r.out + "--- stderr:\n" + r.err;
}

// The last line of `up` must be the registry's, with these counts and a time in seconds.
bool ends_with_ok_line(const std::string& out, std::size_t pre, std::size_t post, std::size_t bbms) {
  const std::regex line("(^|\n)OK: applied " + std::to_string(pre) + " pre-deployment migration\\(s\\), " +
                        std::to_string(post) + " post-deployment migration\\(s\\) and " + std::to_string(bbms) +
                        " background migration\\(s\\) in [0-9]+\\.[0-9]{3}s\n$");
  return std::regex_search(out, line);
}

std::string applied_versions(MigrateSetup& s) {
  return s.db.scalar(
      "SELECT coalesce(string_agg(id, ',' ORDER BY id), '') FROM ("
      " SELECT id FROM bbmd_schema_migrations WHERE state = 'applied' AND id LIKE '202603%'"
      " UNION ALL SELECT id FROM bbmd_post_deploy_schema_migrations WHERE state = 'applied') r");
}

const std::size_t kOwn = bbmd::schema::own_migrations().size();

}  // namespace

TEST_CASE("up ends with the registry's OK line, counting BBMs run inline", "[e2e][cli][registry][schema]") {
  constexpr const char* kBbm = "20260201000001_copy_a_to_b";
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(50), "DROP TABLE t;");
  s.pre("20260201000001_queue_copy", queue_bbm_sql(kBbm), "DELETE FROM batched_background_migrations;");
  s.pre("20260201000002_needs_copy", std::string("-- bbmd:requires-bbm ") + kBbm + "\nSELECT 1;");
  s.post("20260201000003_post", "SELECT 1;");
  const auto r = s.migrate("up");
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(ends_with_ok_line(r.out, kOwn + 3, 1, 1));

  const auto again = s.migrate("up");
  INFO(show(again));
  CHECK(again.exit_code == 0);
  CHECK(ends_with_ok_line(again.out, 0, 0, 0));
}

TEST_CASE("the registry's short flags of database migrate up, status and down", "[e2e][cli][registry][schema]") {
  MigrateSetup s;
  s.pre("20260301000000_create_t", t_table_sql(5), "DROP TABLE t;");
  s.pre("20260301000001_add_c", "ALTER TABLE t ADD COLUMN c int;", "ALTER TABLE t DROP COLUMN c;");
  s.post("20260301000002_fill_c", "UPDATE t SET c = 1;", "UPDATE t SET c = NULL;");
  s.post("20260301000003_fill_b", "UPDATE t SET b = 2;", "UPDATE t SET b = NULL;");

  // -d: the plan, no change, no OK line.
  auto r = s.migrate("up", {"-d"});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("dry run, nothing will be changed") != std::string::npos);
  CHECK(r.out.find("OK: applied") == std::string::npos);
  CHECK(s.db.scalar("SELECT to_regclass('public.t') IS NULL") == "t");

  // -n alone limits pre-deployment migrations (0: all) and applies no post-deployment one.
  r = s.migrate("up", {"-n", "0"});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(ends_with_ok_line(r.out, kOwn + 2, 0, 0));
  CHECK(applied_versions(s) == "20260301000000_create_t,20260301000001_add_c");

  // status -u: only true or false; -s leaves post-deployment migrations out.
  r = s.migrate("status", {"-u"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "false\n");
  r = s.migrate("status", {"-s", "-u"});
  CHECK(r.out == "true\n");
  r = s.migrate("status", {"--up-to-date"}, {{"SKIP_POST_DEPLOYMENT_MIGRATIONS", "true"}});
  CHECK(r.out == "true\n");
  r = s.migrate("status", {"-s", "--json"});
  CHECK(r.exit_code == 0);
  for (const auto& row : nlohmann::json::parse(r.out)) CHECK(row["kind"] != "post");

  // -s: nothing left that is not post-deployment.
  r = s.migrate("up", {"-s"});
  CHECK(r.exit_code == 0);
  CHECK(ends_with_ok_line(r.out, 0, 0, 0));

  // -p alone limits post-deployment migrations.
  r = s.migrate("up", {"-p", "1"});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(ends_with_ok_line(r.out, 0, 1, 0));
  CHECK(applied_versions(s) == "20260301000000_create_t,20260301000001_add_c,20260301000002_fill_c");

  // Both limits given: each must be at least 1, as the registry requires.
  r = s.migrate("up", {"-n", "1", "-p", "0"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("both pre and post migration limits (-n, -p) must be at least 1") != std::string::npos);
  r = s.migrate("up", {"--limit", "1", "--limit-pre", "1"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--limit excludes --limit-pre") != std::string::npos);

  r = s.migrate("up");
  CHECK(ends_with_ok_line(r.out, 0, 1, 0));
  CHECK(s.migrate("status", {"-u"}).out == "true\n");

  // down -p alone reverts only post-deployment ones; -d shows and changes nothing; -n counts all.
  r = s.migrate("down", {"-f", "-p", "1", "-d"});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("20260301000003_fill_b") != std::string::npos);
  CHECK(applied_versions(s) ==
        "20260301000000_create_t,20260301000001_add_c,20260301000002_fill_c,20260301000003_fill_b");
  r = s.migrate("down", {"-f", "-p", "0"});
  INFO(show(r));
  CHECK(r.exit_code == 0);
  CHECK(applied_versions(s) == "20260301000000_create_t,20260301000001_add_c");
  r = s.migrate("down", {"-f", "-n", "1"});
  CHECK(r.exit_code == 0);
  CHECK(applied_versions(s) == "20260301000000_create_t");
  CHECK(s.db.count("SELECT count(*) FROM information_schema.columns WHERE table_name = 't' AND column_name = 'c'") ==
        0);
}

TEST_CASE("background-migrate run -r: the registry's default of 2 attempts and its range 1..10",
          "[e2e][cli][registry][run]") {
  bbmd::test::TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::e2e::make_table(db, 10);
  // maxjobretries is 5 here: run does not take it, it takes -r or the registry's default.
  bbmd::test::ConfigFile cfg(db, {{"database.backgroundmigrations.maxjobretries", "5"}});
  cfg.dir().write("functions/fail.sql", "UPDATE {{table}} SET changes = 1 / 0 WHERE {{column}} BETWEEN $1 AND $2");
  const auto attempts = [&](const std::vector<std::string>& flags) {
    db.exec("DELETE FROM batched_background_migrations");
    bbmd::e2e::queue_t_migration(db, "20260101000001_fails", "fail", 10, 10);
    std::vector<std::string> args{"background-migrate", "run"};
    args.insert(args.end(), flags.begin(), flags.end());
    args.push_back(cfg.path());
    const auto r = run_bbmd(args, 60s);
    INFO(show(r));
    CHECK(r.exit_code == 1);
    return db.scalar("SELECT attempts FROM background_migration_jobs");
  };
  CHECK(attempts({}) == "2");
  CHECK(attempts({"-r", "1"}) == "1");
  CHECK(attempts({"--max-job-retry", "3"}) == "3");
  for (const char* bad : {"0", "11"}) {
    const auto r = run_bbmd({"background-migrate", "run", "-r", bad, cfg.path()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--max-job-retry: Value " + std::string(bad) + " not in range 1 to 10") != std::string::npos);
  }
}

TEST_CASE("bbmd --version prints what bbmd version prints", "[e2e][cli][registry]") {
  const auto verb = run_bbmd({"version"});
  for (const char* flag : {"--version", "-v"}) {
    const auto r = run_bbmd({flag});
    INFO(show(r));
    CHECK(r.exit_code == 0);
    CHECK(r.out == verb.out);
    CHECK(r.out.rfind("bbmd ", 0) == 0);
  }
}
