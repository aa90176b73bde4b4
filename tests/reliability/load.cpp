// Scenario load (issue 7, item 3): many small migrations on many tables, run by 8 workers in
// two `bbmd serve` processes. All must finish before a deadline; the server must see no
// deadlock; bbmd's connections must stay within its pools; no lease may be taken over (nothing
// failed, so every job commits on its first attempt); every row is changed exactly once.
//
// Bbm m works on table m % 20 over its own slice of ids, so every row of every table
// belongs to exactly one migration, while the migrations of one table compete for its
// one-running-job slot (maxjobspertable 1) under the lease's advisory locks.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "e2e/e2e_helpers.hpp"
#include "reliability/suite.hpp"
#include "reliability/workload.hpp"
#include "support/poll.hpp"

namespace bbmd::reliability {

namespace {

using namespace std::chrono_literals;

constexpr int kTables = 20;
constexpr int kMigrations = 100;
constexpr int kProcesses = 2;
constexpr int kWorkersPerProcess = 4;
constexpr int kPoolSize = kWorkersPerProcess + 2;  // database.pool.maxopen of each process
constexpr std::int64_t kBatchSize = 25;
constexpr std::int64_t kQuickRowsPerMigration = 100;  // four jobs each
constexpr std::int64_t kFullRowsPerMigration = 400;
constexpr auto kDeadline = 120s;

std::string table_name(int t) { return "load_t" + std::to_string(t + 1); }

// Creates the tables and queues `migrations` migrations of `rows_each` rows; the m-th takes
// slice m / kTables of table m % kTables.
void queue_workload(test::TestDatabase& db, int migrations, std::int64_t rows_each) {
  for (int t = 0; t < kTables; ++t) {
    const int on_table = migrations / kTables + (t < migrations % kTables ? 1 : 0);
    make_counted_table(db, table_name(t), static_cast<long>(on_table * rows_each));
  }
  for (int m = 0; m < migrations; ++m) {
    const std::int64_t first = static_cast<std::int64_t>(m / kTables) * rows_each + 1;
    queue_range_migration(db, "20260101" + std::to_string(100000 + m) + "_load_" + std::to_string(m),
                          table_name(m % kTables), "load_touch", first, first + rows_each - 1, kBatchSize);
  }
}

long deadlocks(test::TestDatabase& db) {
  return db.count("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()");
}

// Lease takeovers a process counted, from its /metrics; -1 if it could not be scraped.
double scraped_takeovers(const Serve& serve) {
  const auto port = serve.debug_port();
  if (!port) return -1;
  const auto scrape = e2e::http_get(*port, "/metrics");
  if (scrape.status != 200) return -1;
  return e2e::metric_sum(scrape.body, "registry_bbm_lease_takeovers_total");
}

}  // namespace

BBMD_RELIABILITY_SCENARIO(load, 30)(const Options& opt, Tally& tally) {
  const int migrations = opt.quick ? kMigrations : std::max(kMigrations, static_cast<int>(kMigrations * opt.scale));
  const std::int64_t rows_each = opt.quick ? kQuickRowsPerMigration : kFullRowsPerMigration;
  const auto deadline = opt.quick ? kDeadline : std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    kDeadline * std::max(1.0, opt.scale));
  std::printf("%d migrations x %lld rows on %d tables, %d processes x %d workers, pool %d each\n", migrations,
              static_cast<long long>(rows_each), kTables, kProcesses, kWorkersPerProcess, kPoolSize);

  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  queue_workload(db, migrations, rows_each);
  test::ConfigFile cfg(db, {{"database.backgroundmigrations.workers", std::to_string(kWorkersPerProcess)},
                            {"database.pool.maxopen", std::to_string(kPoolSize)},
                            // Far longer than any job here: a takeover would mean a real failure.
                            {"database.backgroundmigrations.leaseduration", "60s"}});
  write_touch_function(cfg, "load_touch", "0.01");
  const long deadlocks_before = deadlocks(db);

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<Serve>> fleet;
  for (int i = 0; i < kProcesses; ++i) fleet.push_back(std::make_unique<Serve>(cfg, "load-" + std::to_string(i)));
  long most_connections = 0;
  long most_running = 0;
  const bool finished = wait_for_finished_migrations(db, migrations, deadline, tally, "load", [&] {
    for (auto& s : fleet) s->alive(tally);
    most_connections = std::max(most_connections, bbmd_connections(db));
    most_running = std::max(most_running,
                            static_cast<long>(db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 1")));
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  double takeovers = 0;
  for (auto& s : fleet) {
    const double counted = scraped_takeovers(*s);
    tally.expect(counted >= 0, "load: could not scrape /metrics of " + s->label());
    takeovers += std::max(0.0, counted);
  }
  for (auto& s : fleet) s->stop(tally);
  // A backend reports its deadlocks to the statistics when it exits: wait for bbmd's to be gone.
  tally.expect(test::poll_until([&] { return bbmd_connections(db) == 0; }, 10s),
               "load: bbmd's connections still open after both processes stopped");
  const long new_deadlocks = deadlocks(db) - deadlocks_before;

  const long jobs = db.count("SELECT count(*) FROM background_migration_jobs");
  const long retried = db.count("SELECT count(*) FROM background_migration_jobs WHERE attempts <> 1");
  std::printf("finished %s in %.1f s: %ld jobs (%.0f jobs/s), at most %ld running at once\n",
              finished ? "all" : "NOT all", seconds, jobs, jobs / seconds, most_running);
  std::printf("connections at most %ld (limit %d), lease takeovers %.0f, jobs not on their first attempt %ld, "
              "deadlocks %ld\n",
              most_connections, kPoolSize * kProcesses, takeovers, retried, new_deadlocks);
  tally.expect(most_connections <= kPoolSize * kProcesses,
               "load: " + std::to_string(most_connections) + " bbmd connections, more than the pools allow");
  tally.expect(most_connections > 0, "load: never saw a bbmd connection");
  tally.expect(takeovers == 0, "load: " + std::to_string(takeovers) + " lease takeovers without a failure");
  tally.expect(retried == 0, "load: " + std::to_string(retried) + " jobs needed more than one attempt");
  tally.expect(new_deadlocks == 0, "load: the server detected " + std::to_string(new_deadlocks) + " deadlocks");
  tally.expect(jobs == migrations * (rows_each / kBatchSize),
               "load: " + std::to_string(jobs) + " jobs, expected " +
                   std::to_string(migrations * (rows_each / kBatchSize)));
  unfinished_jobs(db, tally, "load");
  for (int t = 0; t < kTables; ++t) count_row_damage(db, table_name(t), tally);
}

}  // namespace bbmd::reliability
