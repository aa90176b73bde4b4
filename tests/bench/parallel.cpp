// Scenarios 3 and 4: two migrations on two tables at once against one after the other, and a
// fleet of four processes on one migration against a single process.
#include <memory>

#include "bench/bench.hpp"
#include "bench/harness.hpp"

namespace bbmd::bench {

namespace {

constexpr int kBatchSize = 10'000;
constexpr int kFleetSize = 4;

std::chrono::seconds run_timeout(const Options& options) { return std::chrono::seconds(options.quick ? 300 : 1800); }

// Queues a touch migration on a fresh copy of `source` named `table`.
std::int64_t queue_copy(test::TestDatabase& db, const std::string& source, const std::string& table, long long rows) {
  fresh_copy(db, source, table);
  return queue(db, table, "touch", rows, kBatchSize);
}

// Runs the queued migrations `ids` with `processes` serve processes on `config`; their seconds.
double run(test::TestDatabase& db, const std::vector<std::int64_t>& ids, int processes,
           const test::ConfigOverrides& config, std::chrono::seconds timeout) {
  std::vector<std::unique_ptr<Serve>> fleet;
  for (int i = 0; i < processes; ++i) fleet.push_back(std::make_unique<Serve>(db, config));
  wait_finished(db, ids, timeout);
  for (auto& serve : fleet) serve->stop();
  return migration_seconds(db, ids);
}

}  // namespace

void parallel_tables(const Options& options, Report& report) {
  const long long rows = options.quick ? 50'000 : 1'000'000;
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", rows);
  const auto config = bench_config({{"database.backgroundmigrations.workers", "2"}});

  double sequential = 0;
  for (const std::string table : {"seq_1", "seq_2"}) {
    const auto id = queue_copy(db, "source", table, rows);
    sequential += run(db, {id}, 1, config, run_timeout(options));
  }
  const auto first = queue_copy(db, "source", "par_1", rows);
  const auto second = queue_copy(db, "source", "par_2", rows);
  const double parallel = run(db, {first, second}, 1, config, run_timeout(options));
  for (const std::string table : {"seq_1", "seq_2", "par_1", "par_2"}) expect_each_row_once(db, table, rows);

  const double ratio = sequential / parallel;
  report.add({"two tables one after the other (2 x " + std::to_string(rows) + " rows)", 2.0 * rows / sequential,
              "rows/s", std::nullopt, "", true});
  report.add({"two tables at once (2 workers)", 2.0 * rows / parallel, "rows/s", ratio, ">= 1.3x", ratio >= 1.3});
}

void fleet(const Options& options, Report& report) {
  const long long rows = options.quick ? 50'000 : 1'000'000;
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", rows);
  // The same config for both runs; it lets jobs of one table run side by side, which only the
  // fleet can use (each process has one worker).
  const auto config = bench_config({{"database.backgroundmigrations.maxjobspertable", std::to_string(kFleetSize)}});

  const double single = run(db, {queue_copy(db, "source", "single", rows)}, 1, config, run_timeout(options));
  const double together = run(db, {queue_copy(db, "source", "fleet", rows)}, kFleetSize, config, run_timeout(options));
  expect_each_row_once(db, "single", rows);
  expect_each_row_once(db, "fleet", rows);

  const double ratio = single / together;
  report.add({"one process on one migration (" + std::to_string(rows) + " rows)", rows / single, "rows/s",
              std::nullopt, "", true});
  report.add({"fleet of 4 processes on one migration, every row changed once", rows / together, "rows/s", ratio,
              ">= 1.0x", ratio >= 1.0});
}

}  // namespace bbmd::bench
