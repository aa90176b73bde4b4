// Scenario 8: how soon an operator's edit takes effect on idle workers. A migration queued in SQL,
// or a paused one resumed in SQL, is timed from its statement (the server's clock_timestamp()) to
// its first job row (the lease transaction's now()), by LISTEN/NOTIFY and by polling alone.
// Between trials the worker stays idle for a random while, so its backoff is caught at every
// phase, as an operator's edit would catch it.
#include <algorithm>
#include <random>
#include <thread>

#include "bench/bench.hpp"
#include "bench/harness.hpp"
#include "support/poll.hpp"

namespace bbmd::bench {

namespace {

struct Path {
  bool listen;
  int trials;
  std::chrono::milliseconds max_idle;  // the idle time before a trial is drawn from [0, max_idle]
};

double percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

// One trial: even trials queue a new migration, odd ones resume one queued paused. Returns the
// milliseconds from the edit to the migration's first job.
double trial(test::TestDatabase& db, int n) {
  const std::string name = "20260101000000_pickup_" + std::to_string(n);
  const std::string row = "(name, table_name, column_name, job_signature_name, job_arguments, max_value, batch_size, "
                          "status) VALUES ('" + name + "', 'public.pickup', 'id', 'touch', '{}', 10, 100, ";
  std::string edited_at;
  if (n % 2 == 0) {
    edited_at = db.scalar("INSERT INTO batched_background_migrations " + row + "1) RETURNING clock_timestamp()");
  } else {
    db.exec("INSERT INTO batched_background_migrations " + row + "0)");
    // The paused row's own notification wakes the worker, which finds nothing: let it go idle.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    edited_at = db.scalar("UPDATE batched_background_migrations SET status = 1 WHERE name = '" + name +
                          "' RETURNING clock_timestamp()");
  }
  const auto id = std::stoll(db.scalar("SELECT id FROM batched_background_migrations WHERE name = '" + name + "'"));
  wait_finished(db, {id}, std::chrono::seconds(60));
  return std::stod(db.scalar("SELECT 1000 * extract(epoch FROM min(created_at) - '" + edited_at +
                             "'::timestamptz) FROM background_migration_jobs WHERE batched_background_migration_id = " +
                             std::to_string(id)));
}

std::vector<double> latencies(const Path& path) {
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "pickup", 10);
  Serve serve(db, bench_config({{"database.backgroundmigrations.listen", path.listen ? "true" : "false"}}));
  std::mt19937 rng(17);
  std::uniform_int_distribution<long> idle(0, path.max_idle.count());
  std::vector<double> out;
  for (int n = 0; n < path.trials; ++n) {
    // Pacing between measurements, not synchronisation: the edit lands at a random backoff phase.
    std::this_thread::sleep_for(std::chrono::milliseconds(idle(rng)));
    out.push_back(trial(db, n));
  }
  serve.stop();
  return out;
}

void add(Report& report, const std::string& path, const std::vector<double>& ms, const std::string& p99_target,
         bool p99_met) {
  const std::string trials = " (" + std::to_string(ms.size()) + " trials)";
  report.add({"pickup latency p50, " + path + trials, percentile(ms, 0.5), "ms", std::nullopt, "", true});
  report.add({"pickup latency p99, " + path + trials, percentile(ms, 0.99), "ms", std::nullopt, p99_target, p99_met});
}

}  // namespace

void pickup_latency(const Options& options, Report& report) {
  const auto listened = latencies({true, options.quick ? 10 : 50, std::chrono::milliseconds(options.quick ? 300 : 1500)});
  const double p99 = percentile(listened, 0.99);
  add(report, "LISTEN/NOTIFY (a queued or resumed migration to its first job)", listened, "<= 100 ms", p99 <= 100);
  // Polling waits up to backoff.max (10 s) per trial, so it gets fewer trials.
  const auto polled = latencies({false, options.quick ? 2 : 12, std::chrono::milliseconds(options.quick ? 1000 : 12000)});
  add(report, "polling alone (listen: false, backoff.max 10 s)", polled, "", true);
}

}  // namespace bbmd::bench
