// One job's transaction: fence check, the work statement (whole or in sub-batches), bookkeeping.
#include "bbm/batch.hpp"

#include <exception>
#include <vector>

#include "bbm/sleep.hpp"
#include "db/connection.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

// The batch's timeouts, then the fence: the row lock makes a takeover wait for this transaction,
// and the token proves the lease is still ours. A lost lease must stop the pipelined work from
// running; with no PL/pgSQL to RAISE, dividing by the zero rows found fails the statement
// (division_by_zero), which the pipeline position tells apart from any error of the work.
constexpr const char* kStart =
    "SELECT set_config('statement_timeout', $3, true), set_config('lock_timeout', $4, true), "
    "1 / (SELECT count(*)::int FROM (SELECT 1 FROM background_migration_jobs WHERE id = $1 AND lease_token = $2 "
    "AND status = 1 FOR UPDATE) AS held) AS fenced";
constexpr std::size_t kFenceIndex = 1;  // after BEGIN
constexpr const char* kDivisionByZero = "22012";

// $5: whether to count the sessions our locks block (pg_blocking_pids walks the lock table, so
// it is only paid for when the lock-waiter throttle is on). Done in the same statement as the
// bookkeeping: no extra round trip.
constexpr const char* kFinishJob =
    "UPDATE background_migration_jobs SET status = 2, finished_at = now(), updated_at = now(), rows_affected = $3, "
    "duration_ms = $4, lease_expires_at = NULL, failure_error_code = NULL, last_error = NULL "
    "WHERE id = $1 AND lease_token = $2 RETURNING CASE WHEN $5::bool THEN (SELECT count(*) FROM pg_stat_activity "
    "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))) ELSE 0 END AS lock_waiters";

constexpr const char* kFailJob =
    "UPDATE background_migration_jobs SET status = 3, failure_error_code = $3, last_error = left($4, 2000), "
    "lease_expires_at = NULL, updated_at = now() WHERE id = $1 AND lease_token = $2 AND status = 1";

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

db::Params work_params(const Target& target, std::int64_t min, std::int64_t max) {
  db::Params params{min, max};
  for (const auto& p : target.work_params) params.emplace_back(p);
  return params;
}

db::Statement work_statement(const Target& target, std::int64_t min, std::int64_t max) {
  return db::Statement{target.work_sql, work_params(target, min, max)};
}

// BEGIN, the fence and (without sub-batches) the whole range's work go in one round trip.
// Sub-batches split the job's key range into slices of sub_batch_size keys (a timeout may have
// shrunk it for this job), all in the job's transaction, so a crash loses none and repeats none.
// Returns the rows the work changed.
boost::asio::awaitable<std::int64_t> start_and_work(db::Connection& conn, const Migration& m, const Target& target,
                                                    const Job& job, const BatchOptions& options) {
  const std::int64_t sub_batch = job.sub_batch_size > 0 ? job.sub_batch_size : m.sub_batch_size;
  std::vector<db::Statement> start;
  start.push_back(db::Statement{"BEGIN", {}});
  start.push_back(db::Statement{kStart, db::Params{job.id, job.lease_token, options.statement_timeout,
                                                   options.lock_timeout}});
  start.push_back(conn.transaction_settings());
  if (sub_batch <= 0) start.push_back(work_statement(target, job.min_value, job.max_value));
  // Named for the work (its time is nearly all of it), so the work function's query series stays.
  const std::string name = "bbm_work_" + m.job_signature_name;
  const auto started = co_await conn.pipeline(name, start);
  if (sub_batch <= 0) co_return started.back().affected_rows();

  std::int64_t rows = 0;
  for (std::int64_t lo = job.min_value; lo <= job.max_value;) {
    const std::int64_t hi = (job.max_value - lo < sub_batch) ? job.max_value : lo + sub_batch - 1;
    const auto slice_start = Clock::now();
    rows += (co_await conn.query(name, target.work_sql, work_params(target, lo, hi))).affected_rows();
    if (options.on_sub_batch) options.on_sub_batch(seconds_since(slice_start));
    if (hi == job.max_value) break;
    lo = hi + 1;
    if (m.sub_batch_pause_ms > 0) co_await sleep_for(std::chrono::milliseconds(m.sub_batch_pause_ms));
  }
  co_return rows;
}

// The bookkeeping, the `in_commit` statements and COMMIT go in a second round trip.
boost::asio::awaitable<BatchOutcome> work_and_commit(db::Connection& conn, const Migration& m, const Target& target,
                                                     const Job& job, const BatchOptions& options,
                                                     const InCommit& in_commit, Clock::time_point start) {
  BatchOutcome out;
  out.rows = co_await start_and_work(conn, m, target, job, options);
  out.seconds = seconds_since(start);
  std::vector<db::Statement> finish;
  finish.push_back(db::Statement{kFinishJob, db::Params{job.id, job.lease_token, out.rows,
                                                        static_cast<std::int64_t>(out.seconds * 1000),
                                                        options.count_lock_waiters}});
  const auto extra = in_commit ? in_commit() : std::vector<db::Statement>{};
  finish.insert(finish.end(), extra.begin(), extra.end());
  finish.push_back(db::Statement{"COMMIT", {}});
  auto finished = co_await conn.pipeline("bbm_batch_finish_job", finish);
  out.lock_waiters = finished.front().get_int(0, "lock_waiters");
  if (!extra.empty()) out.in_commit = std::move(finished[finished.size() - 2]);
  co_return out;
}

bool is_lost_lease(const db::PipelineError& e) {
  return e.index() == kFenceIndex && e.sqlstate() == kDivisionByZero;
}

}  // namespace

// C++ cannot co_await inside a catch block, so the rollback follows it (the explicit BEGIN
// leaves a failed transaction open).
boost::asio::awaitable<BatchOutcome> run_batch(db::Connection& conn, const Migration& m, const Target& target,
                                               const Job& job, const BatchOptions& options,
                                               const InCommit& in_commit) {
  const auto start = Clock::now();
  std::exception_ptr failure;
  bool lease_lost = false;
  bool redo = false;
  try {
    co_return co_await work_and_commit(conn, m, target, job, options, in_commit, start);
  } catch (const db::PipelineError& e) {
    lease_lost = is_lost_lease(e);
    redo = e.kind() == db::ErrorKind::prepared_statement_missing;
    if (!lease_lost) failure = std::current_exception();
  } catch (...) {
    failure = std::current_exception();
  }
  co_await db::roll_back(conn);
  // Nothing committed, and the connection runs unnamed statements from now on, so this happens
  // once per connection: the batch is redone (its fence checks the lease again), no attempt
  // counted (db/error.hpp).
  if (redo) co_return co_await run_batch(conn, m, target, job, options, in_commit);
  if (lease_lost) {
    BatchOutcome lost;
    lost.kind = BatchOutcome::Kind::lease_lost;
    lost.seconds = seconds_since(start);
    co_return lost;
  }
  std::rethrow_exception(failure);
}

boost::asio::awaitable<void> record_job_failure(db::Connection& conn, const Job& job, FailureCode code,
                                                const std::string& error) {
  co_await conn.query("bbm_batch_fail_job", kFailJob,
                      job.id, job.lease_token, static_cast<std::int64_t>(code), error);
}

}  // namespace bbmd::bbm
