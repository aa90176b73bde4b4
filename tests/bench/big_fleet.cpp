// Scenario 12: a bigger fleet. 8 processes of 2 workers on 16 tables against 1 process of 2
// workers on the same tables (fresh copies), same config: the fleet-wide cap, maxrunningjobs, at
// the server's cores, as an operator sets it for a fleet; two rounds of each, alternately. On 2
// cores the server is saturated by two workers, so the target is no loss to contention. Sampled
// every 50 ms while they run: bbmd's sessions (against the pools' bound) and those waiting on a
// lock; from each process's metrics, lease round trips per job. Then the fleet again without the
// cap, printed beside it (no target): 16 batches at once on 2 cores, which PL/pgSQL alone loses
// 13-24 % to (RESULTS.md).
#include <algorithm>
#include <memory>
#include <thread>

#include "bench/bench.hpp"
#include "bench/harness.hpp"
#include "bench/metrics_text.hpp"
#include "support/poll.hpp"

namespace bbmd::bench {

namespace {

constexpr int kTables = 16;
constexpr int kMaxOpen = 4;

struct FleetRun {
  double seconds = 0;
  long long max_sessions = 0;
  long long lock_wait_samples = 0;  // samples with a bbmd session waiting on a heavyweight lock
  long long samples = 0;
  double lease_trips = 0;  // one-trip lease pipelines, over every process
  long long jobs = 0;

  FleetRun& operator+=(const FleetRun& other) {
    seconds += other.seconds;
    max_sessions = std::max(max_sessions, other.max_sessions);
    lock_wait_samples += other.lock_wait_samples;
    samples += other.samples;
    lease_trips += other.lease_trips;
    jobs += other.jobs;
    return *this;
  }
};

std::vector<std::int64_t> queue_tables(test::TestDatabase& db, const std::string& prefix, long long rows, int batch) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kTables; ++i) {
    const auto table = prefix + std::to_string(i);
    fresh_copy(db, "source", table);
    ids.push_back(queue(db, table, "touch", rows, batch));
  }
  return ids;
}

FleetRun run(test::TestDatabase& db, const std::vector<std::int64_t>& ids, int processes, std::chrono::seconds timeout,
             int max_running_jobs) {
  const auto config = bench_config({{"database.backgroundmigrations.workers", "2"},
                                    {"database.backgroundmigrations.maxrunningjobs", std::to_string(max_running_jobs)},
                                    {"database.pool.maxopen", std::to_string(kMaxOpen)}});
  std::string list;
  for (auto id : ids) list += (list.empty() ? "" : ",") + std::to_string(id);
  // Paused while the processes start, so the figure is the fleet at work, not 8 processes'
  // start-up competing with the first one's batches for the 2 cores.
  db.exec("UPDATE batched_background_migrations SET status = 0 WHERE id IN (" + list + ")");
  std::vector<std::unique_ptr<Serve>> fleet;
  for (int i = 0; i < processes; ++i) fleet.push_back(std::make_unique<Serve>(db, config));
  const bool listening = test::poll_until([&] {
    return db.count("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                    "application_name = 'bbmd-listen' AND query LIKE 'LISTEN%'") >= processes;
  }, std::chrono::seconds(30));
  if (!listening) throw BenchError("the fleet's change listeners did not start within 30 s");
  db.exec("UPDATE batched_background_migrations SET status = 1 WHERE id IN (" + list + ")");
  FleetRun out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (db.count("SELECT count(*) FROM batched_background_migrations WHERE id IN (" + list + ") AND status <> 2") > 0) {
    if (std::chrono::steady_clock::now() > deadline) break;  // wait_finished() below says why
    const auto row = db.rows("SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') FROM pg_stat_activity "
                             "WHERE datname = current_database() AND application_name IN ('bbmd', 'bbmd-listen')")[0];
    out.max_sessions = std::max(out.max_sessions, std::stoll(row[0]));
    out.lock_wait_samples += std::stoll(row[1]) > 0 ? 1 : 0;
    ++out.samples;
    // Sampling pace, not synchronisation.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  wait_finished(db, ids, std::chrono::seconds(1));
  for (auto& serve : fleet) {
    out.lease_trips += query_count(serve->scrape(), StatementNames{{"bbm_lease"}});
    serve->stop();
  }
  out.seconds = migration_seconds(db, ids);
  out.jobs = db.count("SELECT count(*) FROM background_migration_jobs WHERE batched_background_migration_id IN (" +
                      list + ")");
  return out;
}

struct Shape {
  long long rows = 0;  // a table
  int batch = 0;
  std::chrono::seconds timeout{0};
};

// One run on fresh copies of the 16 tables, each checked (every row changed once), then dropped:
// kept, copies slow the runs after them (throughput.cpp).
FleetRun measure(test::TestDatabase& db, const std::string& prefix, const Shape& shape, int processes,
                 int max_running_jobs) {
  const auto out = run(db, queue_tables(db, prefix, shape.rows, shape.batch), processes, shape.timeout, max_running_jobs);
  for (int i = 0; i < kTables; ++i) {
    expect_each_row_once(db, prefix + std::to_string(i), shape.rows);
    db.exec("DROP TABLE " + prefix + std::to_string(i));
  }
  return out;
}

void add(Report& report, const std::string& who, const FleetRun& r, int processes) {
  const double jobs = static_cast<double>(std::max(r.jobs, 1LL));
  const auto bound = processes * (kMaxOpen + 1);  // each pool, and each process's LISTEN session
  report.add({"  " + who + ": lease round trips per job (one-trip leases; the rest are chained)", r.lease_trips / jobs,
              "leases", std::nullopt, "", true});
  report.add({"  " + who + ": samples with a bbmd session waiting on a lock", static_cast<double>(r.lock_wait_samples),
              "of " + std::to_string(r.samples), std::nullopt, "", true});
  report.add({"  " + who + ": most bbmd sessions at once", static_cast<double>(r.max_sessions), "sessions",
              std::nullopt, "<= " + std::to_string(bound), r.max_sessions <= bound});
}

}  // namespace

void big_fleet(const Options& options, Report& report) {
  // 30 jobs a table: long enough that the figure is the fleet at work, not its first leases.
  const Shape shape{options.quick ? 5'000 : 300'000, options.quick ? 1'000 : 10'000,
                    std::chrono::seconds(options.quick ? 300 : 1800)};
  // Alternating rounds, so a slow spell of this shared machine falls on both sides.
  const int rounds = options.quick ? 1 : 2;
  // The server runs on this machine: its cores are ours.
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", shape.rows);

  FleetRun single;
  FleetRun fleet;
  for (int round = 0; round < rounds; ++round) {
    const auto suffix = std::to_string(round) + "_";
    single += measure(db, "one_" + suffix, shape, 1, cores);
    fleet += measure(db, "many_" + suffix, shape, 8, cores);
  }
  // The same fleet without the cap: 16 batches at once on the server's cores.
  const auto uncapped = measure(db, "uncapped_", shape, 8, 0);
  const double total = static_cast<double>(shape.rows) * kTables;
  const double single_seconds = single.seconds / rounds;
  const double ratio = single.seconds / fleet.seconds;
  const auto cap = "maxrunningjobs " + std::to_string(cores) + " (this server's cores)";
  const auto over = std::to_string(rounds) + " alternating rounds";
  report.add({"1 process x 2 workers on 16 tables (16 x " + std::to_string(shape.rows) + " rows, batch " +
                  std::to_string(shape.batch) + "), " + cap + ", " + over, total / single_seconds, "rows/s",
              std::nullopt, "", true});
  add(report, "1 process", single, 1);
  report.add({"8 processes x 2 workers on the same 16 tables, " + cap + ", every row changed once, " + over,
              total * rounds / fleet.seconds, "rows/s", ratio, ">= 0.95x", ratio >= 0.95});
  add(report, "8 processes", fleet, 8);
  report.add({"8 processes x 2 workers, no maxrunningjobs", total / uncapped.seconds, "rows/s",
              single_seconds / uncapped.seconds, "", true});
  add(report, "8 processes, no cap", uncapped, 8);
}

}  // namespace bbmd::bench
