// Scenario 5: with a WAL-rate ceiling well below the unthrottled rate, the WAL rate measured over
// the whole run stays close to the ceiling (not far below it: a throttle that over-brakes wastes
// the allowance; not above it: the ceiling is what protects replicas and archiving).
#include "bench/bench.hpp"
#include "bench/harness.hpp"

namespace bbmd::bench {

namespace {

constexpr double kCeilingShare = 0.25;  // of the unthrottled rate: "well below"

struct WalRun {
  double bytes = 0;
  double seconds = 0;
  [[nodiscard]] double rate() const { return bytes / seconds; }
};

WalRun run(test::TestDatabase& db, const std::string& table, long long rows, int batch_size,
           const test::ConfigOverrides& config, std::chrono::seconds timeout) {
  fresh_copy(db, "source", table);
  const auto start_lsn = db.scalar("SELECT pg_current_wal_lsn()");
  const auto id = queue(db, table, "copy_column", rows, batch_size);
  Serve serve(db, config);
  wait_finished(db, {id}, timeout);
  serve.stop();
  WalRun out;
  out.bytes = std::stod(db.scalar("SELECT pg_current_wal_lsn() - '" + start_lsn + "'::pg_lsn"));
  out.seconds = migration_seconds(db, {id});
  return out;
}

}  // namespace

void throttle_accuracy(const Options& options, Report& report) {
  const long long rows = options.quick ? 100'000 : 1'000'000;
  const int batch_size = options.quick ? 2'000 : 10'000;
  const auto timeout = std::chrono::seconds(options.quick ? 300 : 1800);
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", rows);

  const auto free_run = run(db, "unthrottled", rows, batch_size, bench_config(), timeout);
  const double ceiling = kCeilingShare * free_run.rate();
  const auto throttled_config = bench_config({
      {"database.backgroundmigrations.throttle.walrate.enabled", "true"},
      {"database.backgroundmigrations.throttle.walrate.maxbytespersecond", std::to_string(static_cast<long long>(ceiling))},
  });
  const auto held = run(db, "throttled", rows, batch_size, throttled_config, timeout);

  const double ratio = held.rate() / ceiling;
  report.add({"unthrottled WAL rate", free_run.rate() / 1e6, "MB/s", std::nullopt, "", true});
  report.add({"WAL-rate ceiling (1/4 of it)", ceiling / 1e6, "MB/s", std::nullopt, "", true});
  report.add({"throttled WAL rate over the run (" + std::to_string(static_cast<long long>(held.seconds)) + " s)",
              held.rate() / 1e6, "MB/s", ratio, "0.8x..1.05x of the ceiling", ratio >= 0.8 && ratio <= 1.05});
}

}  // namespace bbmd::bench
