// Scenario 6: memory of `bbmd serve` after many jobs (and whether it still grows), and its CPU
// use while idle.
#include <thread>

#include "bench/bench.hpp"
#include "bench/harness.hpp"
#include "support/poll.hpp"

namespace bbmd::bench {

namespace {

constexpr double kMaxRssMb = 20;
constexpr long kMaxGrowthKb = 512;  // allocator noise, not a leak
constexpr double kMaxIdleCpuShare = 0.01;

}  // namespace

void footprint(const Options& options, Report& report) {
  const long long jobs = options.quick ? 2'000 : 100'000;
  const auto idle = std::chrono::seconds(options.quick ? 5 : 30);
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "many_jobs", jobs);
  db.exec("VACUUM (ANALYZE) many_jobs");
  const auto id = queue(db, "many_jobs", "copy_column", jobs, 1);  // one row per job

  Serve serve(db, bench_config());
  const std::string issued = "SELECT coalesce(max(max_value), 0) FROM background_migration_jobs "
                             "WHERE status = 2 AND batched_background_migration_id = " + std::to_string(id);
  if (!test::poll_until([&] { return db.count(issued) >= jobs / 2; }, std::chrono::seconds(options.quick ? 300 : 3600),
                        std::chrono::milliseconds(200))) {
    throw BenchError("half of the jobs did not finish in time");
  }
  const long half_kb = serve.rss_kb();
  wait_finished(db, {id}, std::chrono::seconds(options.quick ? 300 : 3600));
  const long full_kb = serve.rss_kb();

  const double cpu_before = serve.cpu_seconds();
  std::this_thread::sleep_for(idle);  // the measurement window itself, nothing to wait for
  const double idle_share = (serve.cpu_seconds() - cpu_before) / static_cast<double>(idle.count());
  serve.stop();

  const std::string n = std::to_string(jobs);
  report.add({"RSS after " + n + " jobs", full_kb / 1024.0, "MB", std::nullopt,
              "<= 20 MB", full_kb / 1024.0 <= kMaxRssMb});
  report.add({"RSS growth from " + std::to_string(jobs / 2) + " to " + n + " jobs", static_cast<double>(full_kb - half_kb),
              "kB", std::nullopt, "<= 512 kB", full_kb - half_kb <= kMaxGrowthKb});
  report.add({"CPU while idle for " + std::to_string(idle.count()) + " s", 100 * idle_share, "% of a core",
              std::nullopt, "< 1%", idle_share < kMaxIdleCpuShare});
}

}  // namespace bbmd::bench
