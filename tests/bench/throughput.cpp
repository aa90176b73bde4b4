// Scenarios 1, 2 and 7: backfill throughput and per-batch overhead of one bbmd worker against a
// PL/pgSQL loop that runs the same UPDATE over the same ranges with a COMMIT per batch, each on a
// fresh copy of the same table; and the time the reference worker's fixed pacing would take.
// Scenario 2 also measures the two pipelined client floors (client_floor.hpp), each on its own
// copy: bare UPDATEs, and UPDATEs each committed with one job row.
// The loop runs once before bbmd and once after, each on its own copy, and the ratio is against
// the mean. Each copy is dropped once measured, so every run finds the same tables beside it
// (the source and its own copy). Kept, the copies made later runs slower and uneven on the same
// server: the same loop on three copies in turn took 21.23, 23.07 and 21.96 s kept, against
// 20.82, 20.70 and 20.83 s dropped; the middle run, bbmd's, carried most of it.
#include <cmath>
#include <optional>
#include <sstream>

#include "bench/bench.hpp"
#include "bench/client_floor.hpp"
#include "bench/harness.hpp"
#include "bench/metrics_text.hpp"

namespace bbmd::bench {

namespace {

// The reference worker starts one job per jobinterval (1 minute by default).
constexpr double kReferenceJobIntervalSeconds = 60;

constexpr const char* kLookahead = "bbm_batch_range_lookahead";

struct Comparison {
  double baseline_before = 0;
  double baseline_after = 0;
  double baseline_seconds = 0;  // their mean
  std::optional<double> floor_seconds;          // scenario 2 only
  std::optional<double> job_row_floor_seconds;  // scenario 2 only
  double bbmd_seconds = 0;
  long long jobs = 0;
  double round_trips = 0;          // statements bbmd sent on the job's connection
  double lookaheads = 0;           // range lookaheads, on a spare connection
  double bookkeeping_seconds = 0;  // time in statements other than the work itself
  double loop_cpu_seconds = 0;     // the loop's backend, mean of both runs
  double server_cpu_seconds = 0;   // the backends of bbmd's sessions
  double bbmd_cpu_seconds = 0;     // the bbmd serve process
};

// The fastest loop a DBA would hand-write: static SQL (a cached plan), one COMMIT per range,
// the same `IS DISTINCT FROM` filter as copy_column.
void create_baseline_loop(test::TestDatabase& db, const std::string& table) {
  db.exec("CREATE PROCEDURE copy_loop_" + table + "(last bigint, step int) LANGUAGE plpgsql AS $$\n"
          "DECLARE lo bigint := 1;\n"
          "BEGIN\n"
          "  WHILE lo <= last LOOP\n"
          "    UPDATE " + table + " SET b = a WHERE id BETWEEN lo AND lo + step - 1 AND b IS DISTINCT FROM a;\n"
          "    COMMIT;\n"
          "    lo := lo + step;\n"
          "  END LOOP;\n"
          "END $$");
}

void expect_copied(test::TestDatabase& db, const std::string& table) {
  const auto left = db.count("SELECT count(*) FROM " + table + " WHERE b IS DISTINCT FROM a");
  if (left != 0) throw BenchError(table + ": " + std::to_string(left) + " rows not copied");
}

// In a database of its own. Run in bbmd's, its job rows, even deleted and vacuumed before bbmd
// started, made bbmd's lease, fence and finish statements 5 to 8 times slower (0.23x instead of
// 0.40x), which would measure that, not bbmd.
double job_row_floor_seconds(long long rows, int batch_size) {
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", rows);
  fresh_copy(db, "source", "t_job_floor");
  const auto anchor = queue(db, "t_job_floor", "copy_column", rows, batch_size);
  const double seconds = pipelined_client_seconds(db.conninfo(), "t_job_floor", rows, batch_size, anchor);
  expect_copied(db, "t_job_floor");
  const auto recorded = db.count("SELECT count(*) FROM background_migration_jobs");
  if (recorded != (rows + batch_size - 1) / batch_size) {
    throw BenchError("job-row floor recorded " + std::to_string(recorded) + " job rows");
  }
  return seconds;
}

Comparison compare(long long rows, int batch_size, std::chrono::seconds timeout, bool with_floor,
                   const test::ConfigOverrides& config = {}) {
  test::TestDatabase db;
  test::apply_bbmd_schema(db);
  make_source(db, "source", rows);
  Comparison out;

  const auto run_loop = [&](const std::string& table) {
    fresh_copy(db, "source", table);
    create_baseline_loop(db, table);
    LoopSession loop(db.conninfo());
    const double seconds = timed([&] {
      loop.exec("CALL copy_loop_" + table + "(" + std::to_string(rows) + ", " + std::to_string(batch_size) + ")");
    });
    out.loop_cpu_seconds += process_cpu_seconds(loop.backend_pid()) / 2;
    expect_copied(db, table);
    db.exec("DROP TABLE " + table);
    return seconds;
  };
  out.baseline_before = run_loop("t_baseline");

  if (with_floor) {
    fresh_copy(db, "source", "t_floor");
    out.floor_seconds = pipelined_client_seconds(db.conninfo(), "t_floor", rows, batch_size);
    expect_copied(db, "t_floor");
    db.exec("DROP TABLE t_floor");
    out.job_row_floor_seconds = job_row_floor_seconds(rows, batch_size);
  }

  fresh_copy(db, "source", "t_bbmd");
  const auto id = queue(db, "t_bbmd", "copy_column", rows, batch_size);
  Serve serve(db, bench_config(config));
  wait_finished(db, {id}, timeout);
  const auto scrape = serve.scrape();
  out.server_cpu_seconds = bbmd_backends_cpu_seconds(db);
  out.bbmd_cpu_seconds = serve.cpu_seconds();
  serve.stop();
  expect_copied(db, "t_bbmd");
  db.exec("DROP TABLE t_bbmd");
  out.bbmd_seconds = migration_seconds(db, {id});
  out.jobs = db.count("SELECT count(*) FROM background_migration_jobs WHERE status = 2");
  // The range lookahead runs on a spare connection while the batch runs: counted apart, as it
  // neither waits on the job's connection nor delays it.
  const StatementNames lookahead{{kLookahead}};
  out.round_trips = query_count(scrape, StatementNames{{kLookahead}, true});
  out.lookaheads = query_count(scrape, lookahead);
  out.bookkeeping_seconds = query_seconds(scrape, StatementNames{{kLookahead, "bbm_work_"}, true});
  out.baseline_after = run_loop("t_baseline_after");
  out.baseline_seconds = (out.baseline_before + out.baseline_after) / 2;
  return out;
}

double per_second(long long rows, double seconds) { return static_cast<double>(rows) / seconds; }

void add_baseline(Report& report, const std::string& name, long long rows, const Comparison& c) {
  report.add({"baseline " + name + " (PL/pgSQL loop, mean of a run before and a run after bbmd)",
              per_second(rows, c.baseline_seconds), "rows/s", std::nullopt, "", true});
  report.add({"  loop before bbmd", per_second(rows, c.baseline_before), "rows/s", std::nullopt, "", true});
  report.add({"  loop after bbmd", per_second(rows, c.baseline_after), "rows/s", std::nullopt, "", true});
}

// The server's CPU per job next to the wall time per job: where the time goes.
void add_cost_per_job(Report& report, long long rows, int batch_size, const Comparison& c) {
  const double jobs = static_cast<double>(std::max(c.jobs, 1LL));
  const double batches = std::ceil(static_cast<double>(rows) / batch_size);
  report.add({"  wall time per job: bbmd / loop per batch", 1000 * c.bbmd_seconds / jobs, "ms", std::nullopt,
              "", true});
  report.add({"  (the loop per batch)", 1000 * c.baseline_seconds / batches, "ms", std::nullopt, "", true});
  report.add({"  server CPU per job: bbmd's backends (all its sessions)", 1000 * c.server_cpu_seconds / jobs, "ms",
              std::nullopt, "", true});
  report.add({"  (the loop's backend per batch)", 1000 * c.loop_cpu_seconds / batches, "ms", std::nullopt, "", true});
  report.add({"  bbmd process CPU per job", 1000 * c.bbmd_cpu_seconds / jobs, "ms", std::nullopt, "", true});
}

}  // namespace

BackfillResult backfill_throughput(const Options& options, Report& report) {
  const long long rows = options.quick ? 100'000 : 5'000'000;
  const int batch_size = 10'000;
  const auto c = compare(rows, batch_size, std::chrono::seconds(options.quick ? 300 : 3600), false);
  const double ratio = c.baseline_seconds / c.bbmd_seconds;
  add_baseline(report, "backfill throughput, batch 10000", rows, c);
  report.add({"backfill throughput (" + std::to_string(rows) + " rows, batch 10000, 1 worker)",
              per_second(rows, c.bbmd_seconds), "rows/s", ratio, ">= 0.95x", ratio >= 0.95});
  add_cost_per_job(report, rows, batch_size, c);
  return BackfillResult{c.bbmd_seconds, rows, batch_size};
}

void batch_overhead(const Options& options, Report& report) {
  const long long rows = options.quick ? 10'000 : 200'000;
  const auto c = compare(rows, 100, std::chrono::seconds(options.quick ? 300 : 1800), true);
  const double ratio = c.baseline_seconds / c.bbmd_seconds;
  const double of_floor = *c.job_row_floor_seconds / c.bbmd_seconds;
  const double jobs = static_cast<double>(std::max(c.jobs, 1LL));
  add_baseline(report, "small batches, batch 100", rows, c);
  report.add({"client floor (the same UPDATEs pipelined by a libpq client, no lease or bookkeeping)",
              per_second(rows, *c.floor_seconds), "rows/s", c.baseline_seconds / *c.floor_seconds, "", true});
  report.add({"client floor with one job row per batch (each UPDATE committed with a migration row lock and a "
              "job-row INSERT, pipelined; no lease, cut or fence)",
              per_second(rows, *c.job_row_floor_seconds), "rows/s", c.baseline_seconds / *c.job_row_floor_seconds, "",
              true});
  report.add({"small batches (" + std::to_string(rows) + " rows, batch 100, 1 worker), against the loop",
              per_second(rows, c.bbmd_seconds), "rows/s", ratio, ">= 0.6x", ratio >= 0.6});
  report.add({"small batches against the job-row floor", per_second(rows, c.bbmd_seconds), "rows/s", of_floor,
              ">= 0.7x", of_floor >= 0.7});
  add_cost_per_job(report, rows, 100, c);
  const double trips = c.round_trips / jobs;
  report.add({"database round trips per job (on the job's connection)", trips, "statements", std::nullopt, "<= 4",
              trips <= 4});
  report.add({"  and range lookaheads per job (on a spare connection, while the batch runs)", c.lookaheads / jobs,
              "statements", std::nullopt, "", true});
  report.add({"bookkeeping time per job (statements on the job's connection but the work)",
              1000 * c.bookkeeping_seconds / jobs, "ms", std::nullopt, "", true});
}

void batch_thousand(const Options& options, Report& report) {
  const long long rows = options.quick ? 50'000 : 1'000'000;
  const auto c = compare(rows, 1'000, std::chrono::seconds(options.quick ? 300 : 1800), false);
  const double ratio = c.baseline_seconds / c.bbmd_seconds;
  add_baseline(report, "batch 1000", rows, c);
  report.add({"batch 1000 (" + std::to_string(rows) + " rows, 1 worker)", per_second(rows, c.bbmd_seconds), "rows/s",
              ratio, ">= 0.9x", ratio >= 0.9});
  add_cost_per_job(report, rows, 1'000, c);
}

void unprepared(const Options& options, Report& report) {
  const test::ConfigOverrides pooler = {{"database.preparedstatements", "false"}};
  const long long rows = options.quick ? 100'000 : 2'000'000;
  const auto large = compare(rows, 10'000, std::chrono::seconds(options.quick ? 300 : 1800), false, pooler);
  const double ratio = large.baseline_seconds / large.bbmd_seconds;
  add_baseline(report, "batch 10000", rows, large);
  report.add({"without prepared statements, batch 10000 (" + std::to_string(rows) + " rows)",
              per_second(rows, large.bbmd_seconds), "rows/s", ratio, ">= 0.95x", ratio >= 0.95});
  add_cost_per_job(report, rows, 10'000, large);

  // Batch 100 both ways in this run, so the two figures share the machine's mood.
  const long long small_rows = options.quick ? 10'000 : 200'000;
  const auto timeout = std::chrono::seconds(options.quick ? 300 : 1800);
  const auto with = compare(small_rows, 100, timeout, false);
  const auto without = compare(small_rows, 100, timeout, false, pooler);
  report.add({"batch 100 with prepared statements (" + std::to_string(small_rows) + " rows)",
              per_second(small_rows, with.bbmd_seconds), "rows/s", with.baseline_seconds / with.bbmd_seconds, "", true});
  report.add({"batch 100 without prepared statements", per_second(small_rows, without.bbmd_seconds), "rows/s",
              without.baseline_seconds / without.bbmd_seconds, "", true});
  add_cost_per_job(report, small_rows, 100, without);
}

void reference_pacing(const BackfillResult& backfill, Report& report) {
  const double jobs = std::ceil(static_cast<double>(backfill.rows) / backfill.batch_size);
  const double reference_seconds = jobs * kReferenceJobIntervalSeconds;
  report.add({"reference pacing (one job per 1 min jobinterval, " + std::to_string(static_cast<long long>(jobs)) +
                  " jobs)", reference_seconds, "s", std::nullopt, "", true});
  report.add({"bbmd time for the same migration", backfill.bbmd_seconds, "s", reference_seconds / backfill.bbmd_seconds,
              "", true});
}

}  // namespace bbmd::bench
