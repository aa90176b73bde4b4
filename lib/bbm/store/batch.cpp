// One job's transaction: fence check, the work statement (whole or in sub-batches), bookkeeping,
// and the chained lease, committed together (PgStore::run_batch, see store.hpp).
#include <algorithm>
#include <exception>
#include <initializer_list>
#include <vector>

#include "bbm/store/keyset.hpp"
#include "bbm/store/lease.hpp"
#include "bbm/store/pg_store.hpp"
#include "bbm/store/range_lookahead.hpp"
#include "bbm/store/sql.hpp"
#include "db/sleep.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

// The batch's timeouts, then the fence: the row lock makes a takeover wait for this transaction,
// and the token proves the lease is still ours. A lost lease must stop the pipelined work from
// running; with no PL/pgSQL to RAISE, dividing by the zero rows found fails the statement
// (division_by_zero), which the pipeline position tells apart from any error of the work.
const std::string kStart = sql::render(
    "SELECT set_config('statement_timeout', $3, true), set_config('lock_timeout', $4, true), "
    "1 / (SELECT count(*)::int FROM (SELECT 1 FROM {jobs} WHERE id = $1 AND lease_token = $2 "
    "AND status = {j.active} FOR UPDATE) AS held) AS fenced");
constexpr std::size_t kFenceIndex = 1;  // after BEGIN
constexpr const char* kDivisionByZero = "22012";

// $5: whether to count the sessions our locks block (pg_blocking_pids walks the lock table, so
// it is only paid for when the lock-waiter throttle is on). Done in the same statement as the
// bookkeeping: no extra round trip.
const std::string kFinishJob = sql::render(
    "UPDATE {jobs} SET status = {j.finished}, finished_at = now(), updated_at = now(), rows_affected = $3, "
    "duration_ms = $4, lease_expires_at = NULL, failure_error_code = NULL, last_error = NULL "
    "WHERE id = $1 AND lease_token = $2 RETURNING CASE WHEN $5::bool THEN (SELECT count(*) FROM pg_stat_activity "
    "WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))) ELSE 0 END AS lock_waiters");

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// By range: the bounds first. By limit: the number of rows.
db::Params work_params(const Target& target, std::initializer_list<std::int64_t> first) {
  db::Params params(first.begin(), first.end());
  for (const auto& p : target.work_params) params.emplace_back(p);
  return params;
}

bool by_limit(const Target& target) { return target.strategy == BatchingStrategy::null_keyset_limit; }

class Batch {
 public:
  Batch(db::Connection& conn, const Bbm& m, const Target& target, const Job& job, const BatchOptions& options,
        const ChainRequest* chain)
      : conn_(conn), m_(m), target_(target), job_(job), options_(options), chain_(chain) {}

  // C++ cannot co_await inside a catch block, so the rollback follows it (the explicit BEGIN
  // leaves a failed transaction open).
  boost::asio::awaitable<BatchOutcome> run() {
    std::exception_ptr failure;
    bool lease_lost = false;
    bool redo = false;
    try {
      co_return co_await work_and_commit();
    } catch (const db::PipelineError& e) {
      lease_lost = e.index() == kFenceIndex && e.sqlstate() == kDivisionByZero;
      redo = e.kind() == db::ErrorKind::prepared_statement_missing;
      if (!lease_lost && !redo) failure = std::current_exception();
    } catch (...) {
      failure = std::current_exception();
    }
    co_await db::roll_back(conn_);
    // Nothing committed, and the connection runs unnamed statements from now on, so this happens
    // once per connection: the batch is redone (its fence checks the lease again), no attempt
    // counted (db/error.hpp).
    if (redo) co_return co_await run();
    if (!lease_lost) std::rethrow_exception(failure);
    BatchOutcome lost;
    lost.kind = BatchOutcome::Kind::lease_lost;
    lost.seconds = seconds_since(start_);
    co_return lost;
  }

 private:
  // BEGIN, the fence and (without sub-batches) the whole job's work go in one round trip.
  // Sub-batches split the job into slices of sub_batch_size keys (by limit: rows; a timeout may
  // have shrunk it for this job), all in the job's transaction, so a crash loses none and repeats
  // none. Returns the rows the work changed.
  boost::asio::awaitable<std::int64_t> start_and_work(BatchOutcome& out) {
    const std::int64_t sub_batch = job_.sub_batch_size > 0 ? job_.sub_batch_size : m_.sub_batch_size;
    std::vector<db::Statement> start;
    start.push_back(db::Statement{"BEGIN", {}});
    start.push_back(db::Statement{kStart, db::Params{job_.id, job_.lease_token, options_.statement_timeout,
                                                     options_.lock_timeout}});
    start.push_back(conn_.transaction_settings());
    if (sub_batch <= 0) start.push_back(slice(job_.min_value, job_.max_value, job_.batch_size));
    const auto started = co_await conn_.pipeline(work_name(), start);
    if (sub_batch <= 0) co_return started.back().affected_rows();

    // By range the slices cover the keys; by limit, the job's batch_size rows.
    const std::int64_t first = by_limit(target_) ? 1 : job_.min_value;
    const std::int64_t last = by_limit(target_) ? std::max<std::int64_t>(1, job_.batch_size) : job_.max_value;
    std::int64_t rows = 0;
    for (std::int64_t lo = first; lo <= last;) {
      const std::int64_t hi = (last - lo < sub_batch) ? last : lo + sub_batch - 1;
      const auto slice_start = Clock::now();
      const auto statement = slice(lo, hi, hi - lo + 1);
      rows += (co_await conn_.query(work_name(), statement.sql, statement.params)).affected_rows();
      out.sub_batch_seconds.push_back(seconds_since(slice_start));
      if (hi == last) break;
      lo = hi + 1;
      if (m_.sub_batch_pause_ms > 0) co_await db::sleep_for(std::chrono::milliseconds(m_.sub_batch_pause_ms));
    }
    co_return rows;
  }

  // The work statement for keys [lo, hi], or by limit for `count` rows.
  db::Statement slice(std::int64_t lo, std::int64_t hi, std::int64_t count) const {
    if (by_limit(target_)) return db::Statement{target_.work_sql, work_params(target_, {count})};
    return db::Statement{target_.work_sql, work_params(target_, {lo, hi})};
  }

  // By limit a job that changed nothing while rows are still NULL would be due again at once,
  // for ever: it fails instead (its attempts run out, and the migration fails).
  boost::asio::awaitable<void> check_progress(std::int64_t rows) {
    if (!by_limit(target_) || rows > 0) co_return;
    const auto remains = co_await conn_.query("bbm_batch_null_remains", null_remains_sql(target_));
    if (remains.get_bool(0, 0)) {
      throw db::Error(db::ErrorKind::data_error, "",
                      "the work changed no rows while rows with " + m_.column_name + " IS NULL remain in " +
                          m_.table_name + ": it would never finish");
    }
  }

  // The bookkeeping (inside the chained lease's statements, when one is asked for) and COMMIT go
  // in a second round trip. The chained lease is built only now, so it can take what the range
  // lookahead found meanwhile.
  boost::asio::awaitable<BatchOutcome> work_and_commit() {
    BatchOutcome out;
    out.rows = co_await start_and_work(out);
    co_await check_progress(out.rows);
    out.seconds = seconds_since(start_);
    db::Statement bookkeeping{kFinishJob, db::Params{job_.id, job_.lease_token, out.rows,
                                                     static_cast<std::int64_t>(out.seconds * 1000),
                                                     options_.count_lock_waiters}};
    std::vector<db::Statement> finish;
    if (chain_) {
      std::optional<KeyRange> hint;
      if (chain_->lookahead) {
        if (const auto found = chain_->lookahead->ready(job_.max_value + 1, chain_->batch_size)) {
          hint = found->range;
          out.lookahead_seconds = found->seconds;
        }
      }
      finish = chained_lease(m_, target_, job_, *chain_, hint, std::move(bookkeeping));
    } else {
      finish.push_back(std::move(bookkeeping));
    }
    finish.push_back(db::Statement{"COMMIT", {}});
    const auto finished = co_await conn_.pipeline("bbm_batch_finish_job", finish);
    out.lock_waiters = finished[chain_ ? kChainBookkeeping : 0].get_int(0, "lock_waiters");
    if (chain_) {
      out.chained = chained_job(finished[kChainCut]);
      out.finished_migration = chain_finished_migration(finished[kChainCut]);
    }
    co_return out;
  }

  // Named for the work (its time is nearly all of it), so the work function's query series stays.
  std::string work_name() const { return "bbm_work_" + m_.job_signature_name; }

  db::Connection& conn_;
  const Bbm& m_;
  const Target& target_;
  const Job& job_;
  const BatchOptions& options_;
  const ChainRequest* chain_;
  const Clock::time_point start_ = Clock::now();
};

}  // namespace

boost::asio::awaitable<BatchOutcome> PgStore::run_batch(const Bbm& m, const Target& target, const Job& job,
                                                        const BatchOptions& options, const ChainRequest* chain) {
  Batch batch(conn_, m, target, job, options, chain);
  co_return co_await batch.run();
}

}  // namespace bbmd::bbm
