// Adaptive batch size and statement-timeout handling (shrink sub-batches, split jobs) against a
// real PostgreSQL, with work functions whose duration grows with the batch.
#include <catch2/catch.hpp>

#include "support/bbm_fixture.hpp"
#include "support/runner_fixture.hpp"

using namespace std::chrono_literals;
using bbmd::bbm::StepResult;
using bbmd::test::MigrationRow;
using bbmd::test::TestDatabase;
using Rows = std::vector<std::vector<std::string>>;

namespace {

// Sleeps `ms_per_key` for every key of the statement's range, then changes the rows once,
// counting each change so that a repeated batch would show.
std::string slow_sql(const std::string& ms_per_key) {
  return "WITH s AS (SELECT pg_sleep(($2::bigint - $1::bigint + 1) * " + ms_per_key + " / 1000.0)) "
         "UPDATE {{table}} SET b = a, changes = changes + 1 FROM s WHERE {{column}} BETWEEN $1 AND $2";
}

}  // namespace

TEST_CASE("adaptive batch size converges into the target band and never exceeds the max", "[bbm][adaptive]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::make_table(db, 6000);
  const auto registry = bbmd::test::registry_with("slow", slow_sql("0.5"));  // 0.5 ms a row
  MigrationRow row;
  row.job_signature_name = "slow";
  row.max_value = 6000;
  row.batch_size = 40;
  const auto id = bbmd::test::queue_migration(db, row);
  db.exec("UPDATE batched_background_migrations SET max_batch_size = 260");

  // Target 100 ms at 0.5 ms a row: the ideal size is 200, the band (+/- 25%) 150..250.
  bbmd::bbm::BatchSizes sizes(true, 0.1);
  const auto kinds = bbmd::test::drive(db, registry, id, bbmd::test::runner_options(), 100, &sizes);
  CHECK(kinds.back() == StepResult::Kind::migration_finished);
  const auto used = db.rows("SELECT batch_size, max_value - min_value + 1 FROM background_migration_jobs ORDER BY id");
  REQUIRE(used.size() > 12);
  for (std::size_t i = 1; i < used.size(); ++i) {
    const auto size = std::stoll(used[i][0]);
    CHECK(size <= 260);
    CHECK(size <= std::stoll(used[i - 1][0]) * 12 / 10);
  }
  // 40 grows 20% a step (48, 57, 68, 81, 97, 116, 139, 166, ...) and is in the band after 9 jobs.
  for (std::size_t i = 10; i + 1 < used.size(); ++i) {
    INFO("job " << i << " size " << used[i][0]);
    CHECK(std::stoll(used[i][0]) >= 150);
    CHECK(std::stoll(used[i][0]) <= 250);
  }
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a AND changes = 1") == 6000);
}

TEST_CASE("a sub-batch that times out only at large sizes succeeds after shrinking", "[bbm][timeout]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::make_table(db, 80);
  const auto registry = bbmd::test::registry_with("slow", slow_sql("10"));  // 40 keys = 400 ms
  MigrationRow row;
  row.job_signature_name = "slow";
  row.max_value = 80;
  row.batch_size = 80;
  row.sub_batch_size = 40;
  const auto id = bbmd::test::queue_migration(db, row);
  auto options = bbmd::test::runner_options(3);
  options.batch.statement_timeout = 300ms;
  const auto kinds = bbmd::test::drive(db, registry, id, options);
  CHECK(kinds == std::vector<StepResult::Kind>{StepResult::Kind::job_failed, StepResult::Kind::job_finished,
                                               StepResult::Kind::migration_finished});
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, sub_batch_size FROM background_migration_jobs") ==
        Rows{{"1", "80", "2", "2", "20"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b = a AND changes = 1") == 80);
}

TEST_CASE("a batch that always times out shrinks, splits, and ends failed after a bounded number of attempts",
          "[bbm][timeout]") {
  TestDatabase db;
  bbmd::test::apply_bbmd_schema(db);
  bbmd::test::make_table(db, 4);
  const auto registry = bbmd::test::registry_with(
      "stuck", "WITH s AS (SELECT pg_sleep(2)) UPDATE {{table}} SET b = a FROM s WHERE {{column}} BETWEEN $1 AND $2");
  MigrationRow row;
  row.job_signature_name = "stuck";
  row.max_value = 4;
  row.batch_size = 4;
  row.sub_batch_size = 2;
  const auto id = bbmd::test::queue_migration(db, row);
  auto options = bbmd::test::runner_options(2);
  options.batch.statement_timeout = 200ms;
  const auto kinds = bbmd::test::drive(db, registry, id, options, 40);
  // [1,4] shrinks its sub-batch to 1 then splits; [1,2] and [3,4] split at once (sub-batch 1);
  // the four single keys fail twice each: 2 + 2 + 8 = 12 failed attempts, then code 4.
  CHECK(std::count(kinds.begin(), kinds.end(), StepResult::Kind::job_failed) == 12);
  CHECK(kinds.back() == StepResult::Kind::migration_failed);
  CHECK(db.rows("SELECT min_value, max_value, status, attempts, failure_error_code FROM background_migration_jobs "
                "ORDER BY min_value") ==
        Rows{{"1", "1", "3", "2", "8"}, {"2", "2", "3", "2", "8"}, {"3", "3", "3", "2", "8"}, {"4", "4", "3", "2", "8"}});
  CHECK(db.rows("SELECT status, failure_error_code FROM batched_background_migrations") == Rows{{"3", "4"}});
  CHECK(db.count("SELECT count(*) FROM t WHERE b IS NOT NULL OR changes <> 0") == 0);
}
