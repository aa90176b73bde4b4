// Pure pieces of schema migrations: statement splitting, timestamps, directives, planning.
#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "schema/lint.hpp"
#include "schema/migration_file.hpp"
#include "schema/plan.hpp"
#include "schema/sql_split.hpp"

using namespace bbmd::schema;

TEST_CASE("split_statements keeps quoted and dollar-quoted semicolons inside their statement", "[schema]") {
  const auto s = split_statements("-- bbmd:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
                                  "INSERT INTO x VALUES ('a;b', E'c\\';d', \"we;ird\");\n"
                                  "DO $f$ BEGIN PERFORM 1; END $f$;\n/* only; a comment */\n-- trailing; comment\n");
  REQUIRE(s.size() == 3);
  CHECK(s[0] == "-- bbmd:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a)");  // the directives stay
  CHECK(s[1] == "\nINSERT INTO x VALUES ('a;b', E'c\\';d', \"we;ird\")");
  CHECK(s[2] == "\nDO $f$ BEGIN PERFORM 1; END $f$");
}

TEST_CASE("split_statements follows PostgreSQL: nested comments, BEGIN ATOMIC bodies, E'' escapes, no final semicolon",
          "[schema]") {
  // PostgreSQL nests /* */ comments: the first */ does not end the outer one.
  CHECK(split_statements("/* outer /* inner; */ still; */ SELECT 1; SELECT 2") ==
        std::vector<std::string>{"/* outer /* inner; */ still; */ SELECT 1", " SELECT 2"});
  // A SQL-standard function body holds statements of its own up to END.
  CHECK(split_statements("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n"
                         "SELECT f()") ==
        std::vector<std::string>{"CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND",
                                 "\nSELECT f()"});
  // Dollar quotes with and without a tag, one inside the other.
  CHECK(split_statements("SELECT $$a;b$$; SELECT $x$ $$ ; $$ $x$;") ==
        std::vector<std::string>{"SELECT $$a;b$$", " SELECT $x$ $$ ; $$ $x$"});
  // E'' takes backslash escapes, a plain '' does not (standard_conforming_strings).
  CHECK(split_statements("SELECT E'it\\'s; fine'; SELECT 'C:\\'; SELECT 3") ==
        std::vector<std::string>{"SELECT E'it\\'s; fine'", " SELECT 'C:\\'", " SELECT 3"});
  CHECK(split_statements("-- nothing but comments;\n/* ; */\n").empty());
}

TEST_CASE("split_statements refuses what the server would, naming where, before anything is sent", "[schema]") {
  const auto error = [](const std::string& sql) {
    try {
      (void)split_statements(sql);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(error("SELECT 1;\n/* open /* nested */ still open\n") == "unterminated /* comment at line 2, column 1");
  CHECK(error("SELECT 1;\nSELECT $x$ never closed;\n") == "unterminated dollar-quoted string at line 2, column 8");
  CHECK(error("SELECT 'open;\n") == "unterminated quoted string at line 1, column 8");
  CHECK(error("CREATE TABLE a (id int);\n  SELEC 1;\n") == "syntax error at line 2, column 3");
  CHECK(error(std::string("SELECT 1;\0DROP TABLE t;", 24)) == "NUL byte at byte 9");
}

TEST_CASE("valid_timestamp accepts real UTC times only", "[schema]") {
  CHECK(valid_timestamp("20260229235959") == false);  // 2026 is not a leap year
  CHECK(valid_timestamp("20240229235959"));
  CHECK_FALSE(valid_timestamp("20261301000000"));
  CHECK_FALSE(valid_timestamp("20260101240000"));
  CHECK(utc_timestamp(std::chrono::system_clock::time_point{}) == "19700101000000");
}

TEST_CASE("parse_directives reads the header and rejects unknown bbmd: words", "[schema]") {
  const auto d = parse_directives("-- note\n-- bbmd:requires-bbm 20260101000000_x\n-- bbmd:required-stop\n"
                                  "-- -- bbmd:no-transaction\nSELECT 1;\n-- bbmd:no-transaction\n");
  CHECK(d.requires_bbms == std::vector<std::string>{"20260101000000_x"});
  CHECK(d.required_stop);
  CHECK_FALSE(d.no_transaction);  // commented out, and the last one is past the header
  CHECK_THROWS_AS(parse_directives("-- bbmd:no-transactions\n"), std::invalid_argument);
}

TEST_CASE("statically_queued_bbms finds the names an INSERT INTO batched_background_migrations queues",
          "[schema]") {
  const auto names = statically_queued_bbms("SELECT 'not_me';\ninsert  into\n batched_background_migrations (name) "
                                            "VALUES ('20260101000000_me');");
  CHECK(names == std::vector<std::string>{"20260101000000_me"});
}

TEST_CASE("plan_up orders bbmd, pre, post and applies limits and the post skip: plan_down reverses post first",
          "[schema]") {
  const auto file = [](const std::string& v) { return MigrationFile{v, "SELECT 1;", "SELECT 1;", {}, v}; };
  const auto catalog = make_migration_set({file("20260101000000_own")}, {file("20260201000000_p1"), file("20260201000002_p2")},
                                    {file("20260201000001_q1")});
  const auto rec = [](const std::string& v, bool post) {
    Record r;
    r.version = v;
    r.post = post;
    return r;
  };
  Records records;
  records.by_version["20260101000000_own"] = rec("20260101000000_own", false);
  const auto names = [](const std::vector<const Known*>& ks) {
    std::vector<std::string> out;
    for (const auto* k : ks) out.push_back(k->version());
    return out;
  };
  auto plan = plan_up(catalog, records, {});
  CHECK(names(plan.steps) ==
        std::vector<std::string>{"20260201000000_p1", "20260201000002_p2", "20260201000001_q1"});
  plan = plan_up(catalog, records, {true, 1, std::nullopt});
  CHECK(names(plan.steps) == std::vector<std::string>{"20260201000000_p1"});
  CHECK(names(plan.skipped_post) == std::vector<std::string>{"20260201000001_q1"});
  CHECK(names(plan.over_limit) == std::vector<std::string>{"20260201000002_p2"});

  for (const auto* v : {"20260201000000_p1", "20260201000002_p2"}) records.by_version[v] = rec(v, false);
  records.by_version["20260201000001_q1"] = rec("20260201000001_q1", true);
  CHECK(names(plan_down(catalog, records, 3)) ==
        std::vector<std::string>{"20260201000001_q1", "20260201000002_p2", "20260201000000_p1"});
  records.by_version["20260201000001_q1"].failed = true;  // a failed one is not applied: nothing to revert
  CHECK(names(plan_down(catalog, records, 1)) == std::vector<std::string>{"20260201000002_p2"});
}
