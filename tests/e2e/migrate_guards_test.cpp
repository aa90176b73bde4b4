// The upgrade guards end to end: required BBMs, required stops, and failed post-deployment
// migrations that wait for an operator (retry / mark-applied).
#include <catch2/catch.hpp>

#include "e2e/migrate_support.hpp"

using bbmd::test::t_table_sql;
using bbmd::e2e::MigrateSetup;
using bbmd::e2e::queue_bbm_sql;

namespace {

constexpr const char* kBbm = "20260201000001_copy_a_to_b";

void queue_then_require(MigrateSetup& s) {
  s.pre("20260201000001_queue_copy", queue_bbm_sql(kBbm), "DELETE FROM batched_background_migrations;");
  s.pre("20260201000002_swap_columns",
        std::string("-- bbmd:requires-bbm ") + kBbm + "\nALTER TABLE t RENAME COLUMN a TO a_old;\n",
        "ALTER TABLE t RENAME COLUMN a_old TO a;");
}

}  // namespace

TEST_CASE("a migration requiring an unfinished BBM stops up until background-migrate run finishes it",
          "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(250), "DROP TABLE t;");
  REQUIRE(s.migrate("up").exit_code == 0);  // not a fresh database any more
  queue_then_require(s);

  auto stopped = s.migrate("up");
  INFO(stopped.out << stopped.err);
  CHECK(stopped.exit_code == 3);
  CHECK(stopped.err.find("migration 20260201000002_swap_columns requires batched background migrations") !=
        std::string::npos);
  CHECK(stopped.err.find(std::string(kBbm) + " (status active, 0.0% done)") != std::string::npos);
  CHECK(stopped.err.find("bbmd background-migrate run " + s.cfg.path()) != std::string::npos);
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000001_queue_copy") == 1);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations WHERE id = '20260201000002_swap_columns'") == 0);
  CHECK(s.db.scalar("SELECT array_to_string(queued_bbms, ',') FROM bbmd_schema_migrations "
                    "WHERE id = '20260201000001_queue_copy'") == kBbm);

  REQUIRE(bbmd::test::run_bbmd({"background-migrate", "run", s.cfg.path()}).exit_code == 0);
  auto resumed = s.migrate("up");
  INFO(resumed.out << resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000002_swap_columns") == 1);
  CHECK(s.db.count("SELECT count(*) FROM t WHERE b = a_old") == 250);
}

TEST_CASE("on a fresh database the required BBMs run inline and up completes in one command", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(250), "DROP TABLE t;");
  queue_then_require(s);
  auto r = s.migrate("up");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(std::string("BBMs run inline: ") + kBbm) != std::string::npos);
  CHECK(s.db.scalar(std::string("SELECT status FROM batched_background_migrations WHERE name = '") + kBbm + "'") ==
        "2");
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000002_swap_columns") == 1);
  CHECK(s.db.count("SELECT count(*) FROM t WHERE b = a_old") == 250);
}

TEST_CASE("a required BBM nobody queued is an error, not 'finished'", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(10), "DROP TABLE t;");
  s.pre("20260201000001_needs_ghost", "-- bbmd:requires-bbm 20260101000000_ghost\nSELECT 1;");
  auto r = s.migrate("up");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("'20260101000000_ghost', but no BBM has that name") != std::string::npos);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations WHERE id = '20260201000001_needs_ghost'") == 0);
}

TEST_CASE("a required stop with an unfinished BBM stops up there with exit code 3", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(250), "DROP TABLE t;");
  REQUIRE(s.migrate("up").exit_code == 0);
  s.pre("20260201000001_stop", "-- bbmd:required-stop\n" + queue_bbm_sql(kBbm));
  s.pre("20260201000002_later", "CREATE TABLE later_pre (id int);", "DROP TABLE later_pre;");
  s.post("20260201000003_later_post", "CREATE TABLE later_post (id int);", "DROP TABLE later_post;");

  auto r = s.migrate("up");
  INFO(r.out << r.err);
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("stopped at required stop 20260201000001_stop") != std::string::npos);
  CHECK(r.err.find(std::string(kBbm) + " (status active") != std::string::npos);
  CHECK(r.err.find("bbmd background-migrate run") != std::string::npos);
  CHECK(s.recorded("bbmd_schema_migrations", "20260201000001_stop") == 1);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('later_pre', 'later_post')") == 0);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations WHERE id = '20260201000002_later'") == 0);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_post_deploy_schema_migrations") == 0);
  // Still stopped on the next run: the stop is checked again, not forgotten.
  CHECK(s.migrate("up").exit_code == 3);

  REQUIRE(bbmd::test::run_bbmd({"background-migrate", "run", s.cfg.path()}).exit_code == 0);
  auto past = s.migrate("up");
  INFO(past.out << past.err);
  CHECK(past.exit_code == 0);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname IN ('later_pre', 'later_post')") == 2);
}

TEST_CASE("a failed post-deployment migration is recorded, refused later, and needs retry or mark-applied",
          "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_create_t", t_table_sql(10), "DROP TABLE t;");
  const std::string broken = "ALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = a / 0;\n";
  s.post("20260201000001_fill_c", broken, "ALTER TABLE t DROP COLUMN c;");
  REQUIRE(s.migrate("up", {"--skip-post-deployment"}).exit_code == 0);
  const auto before = s.catalog();

  auto failed = s.migrate("up");
  INFO(failed.out << failed.err);
  CHECK(failed.exit_code == 1);
  CHECK(failed.err.find(s.path("post", "20260201000001_fill_c.up.sql")) != std::string::npos);
  CHECK(failed.err.find("division by zero") != std::string::npos);
  CHECK(s.catalog() == before);  // rolled back: no column c
  CHECK(s.db.rows("SELECT state, error LIKE '%division by zero%', failed_at IS NOT NULL, applied_by <> '', attempts "
                  "FROM bbmd_post_deploy_schema_migrations WHERE id = '20260201000001_fill_c'") ==
        std::vector<std::vector<std::string>>{{"failed", "t", "t", "t", "1"}});
  CHECK(s.states().at("20260201000001_fill_c") == "failed");
  CHECK(s.migrate("status", {"--pending-exit-code"}).exit_code == 1);

  auto refused = s.migrate("up");
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("not retried automatically") != std::string::npos);
  CHECK(refused.err.find("bbmd database migrate retry 20260201000001_fill_c") != std::string::npos);
  CHECK(s.db.count("SELECT attempts FROM bbmd_post_deploy_schema_migrations WHERE id = '20260201000001_fill_c'") == 1);
  CHECK(s.catalog() == before);

  SECTION("retry reruns it after a fix") {
    s.post("20260201000001_fill_c", "ALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = a / 10;\n",
           "ALTER TABLE t DROP COLUMN c;");
    auto r = s.migrate("retry", {"20260201000001_fill_c"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(s.recorded("bbmd_post_deploy_schema_migrations", "20260201000001_fill_c") == 1);
    CHECK(s.db.count("SELECT count(*) FROM t WHERE c = id") == 10);
    CHECK(s.migrate("up").exit_code == 0);
    CHECK(s.migrate("retry", {"20260201000001_fill_c"}).exit_code == 1);  // nothing failed any more
  }
  SECTION("mark-applied --reason records it as applied with the reason, without running it") {
    CHECK(s.migrate("mark-applied", {"20260201000001_fill_c"}).exit_code == 2);  // --reason is required
    auto r = s.migrate("mark-applied", {"20260201000001_fill_c", "--reason", "made a no-op in 1.2.3"});
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(s.db.rows("SELECT state, marked_reason FROM bbmd_post_deploy_schema_migrations "
                    "WHERE id = '20260201000001_fill_c'") ==
          std::vector<std::vector<std::string>>{{"applied", "made a no-op in 1.2.3"}});
    CHECK(s.catalog() == before);
    CHECK(s.migrate("up").exit_code == 0);
    CHECK(s.migrate("status", {"--pending-exit-code"}).exit_code == 0);
  }
}

TEST_CASE("a failing pre-deployment migration leaves no partial change and is not recorded", "[e2e][schema]") {
  MigrateSetup s;
  s.pre("20260201000000_half", "CREATE TABLE half (id int);\nSELECT * FROM no_such_table;\n");
  auto r = s.migrate("up");
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("20260201000000_half.up.sql failed") != std::string::npos);
  CHECK(r.err.find("no_such_table") != std::string::npos);
  CHECK(s.db.count("SELECT count(*) FROM pg_class WHERE relname = 'half'") == 0);
  CHECK(s.db.count("SELECT count(*) FROM bbmd_schema_migrations WHERE id = '20260201000000_half'") == 0);
}
