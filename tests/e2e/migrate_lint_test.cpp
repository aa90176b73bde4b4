// `database migrate lint`: one test per kind of mistake, plus bbmd's own sql/schema.
#include <catch2/catch.hpp>

#include "e2e/migrate_support.hpp"

using bbmd::test::CommandResult;
using bbmd::test::TempDir;

namespace {

void pair(const TempDir& dir, const std::string& version, const std::string& up = "SELECT 1;") {
  dir.write(version + ".up.sql", up);
  dir.write(version + ".down.sql", "SELECT 1;");
}

CommandResult lint(const std::vector<std::string>& dirs) {
  std::vector<std::string> args{"database", "migrate", "lint"};
  args.insert(args.end(), dirs.begin(), dirs.end());
  return bbmd::test::run_bbmd(args);
}

// Exactly one problem, of this check, naming this file.
void require_one(const CommandResult& r, const std::string& check, const std::string& file) {
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("1 problem(s) found") != std::string::npos);
  CHECK(r.out.find(": " + check + ": ") != std::string::npos);
  CHECK(r.out.find(file) != std::string::npos);
}

}  // namespace

TEST_CASE("lint passes bbmd's own sql/schema", "[e2e][schema][lint]") {
  auto r = lint({std::string(BBMD_SOURCE_DIR) + "/sql/schema"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("no problems found") != std::string::npos);
}

TEST_CASE("lint: bad names", "[e2e][schema][lint]") {
  TempDir d;
  pair(d, "20260201000000_good");
  d.write("2026_add_Thing.up.sql", "SELECT 1;");
  require_one(lint({d.path().string()}), "bad_name", "2026_add_Thing.up.sql");
}

TEST_CASE("lint: duplicate timestamps, across the pre and post directories too", "[e2e][schema][lint]") {
  TempDir pre, post;
  pair(pre, "20260201000000_one");
  pair(post, "20260201000000_two");
  require_one(lint({pre.path().string(), post.path().string()}), "duplicate_timestamp", "20260201000000_two");
}

TEST_CASE("lint: out-of-order timestamps (not a real time, or in the future)", "[e2e][schema][lint]") {
  SECTION("month 13") {
    TempDir d;
    pair(d, "20261301000000_bad_month");
    require_one(lint({d.path().string()}), "out_of_order_timestamp", "20261301000000_bad_month");
  }
  SECTION("dated in the future") {
    TempDir d;
    pair(d, "29990101000000_far_future");
    require_one(lint({d.path().string()}), "out_of_order_timestamp", "29990101000000_far_future");
  }
}

TEST_CASE("lint: missing down file", "[e2e][schema][lint]") {
  TempDir d;
  d.write("20260201000000_no_down.up.sql", "SELECT 1;");
  require_one(lint({d.path().string()}), "missing_down", "20260201000000_no_down");
}

TEST_CASE("lint: required BBM that no migration queues", "[e2e][schema][lint]") {
  TempDir d;
  pair(d, "20260201000000_queue", bbmd::e2e::queue_bbm_sql("20260201000000_real_bbm"));
  pair(d, "20260201000001_needs_real", "-- bbmd:requires-bbm 20260201000000_real_bbm\nSELECT 1;");
  pair(d, "20260201000002_needs_typo", "-- bbmd:requires-bbm 20260201000000_reel_bbm\nSELECT 1;");
  require_one(lint({d.path().string()}), "unqueued_required_bbm", "20260201000002_needs_typo");
}

TEST_CASE("lint: migration dated before the released required stop but not released with it",
          "[e2e][schema][lint]") {
  TempDir d;
  pair(d, "20260201000000_old");
  pair(d, "20260301000000_stop", "-- bbmd:required-stop\nSELECT 1;");
  pair(d, "20260401000000_after_stop");
  SECTION("the stop is not released yet: everything ships together") {
    auto r = lint({d.path().string()});
    CHECK(r.exit_code == 0);
  }
  SECTION("the stop shipped; a migration back-dated before it did not") {
    d.write("released.txt", "# shipped in 1.0\n20260201000000_old\n20260301000000_stop\n");
    pair(d, "20260215000000_backdated");
    require_one(lint({d.path().string()}), "before_required_stop", "20260215000000_backdated");
  }
}

TEST_CASE("lint: a malformed directive", "[e2e][schema][lint]") {
  TempDir d;
  pair(d, "20260201000000_typo", "-- bbmd:no-transactions\nSELECT 1;");
  require_one(lint({d.path().string()}), "bad_directive", "20260201000000_typo");
}
