// A worker's step on one migration, with its logs and metrics (see runner.hpp).
#include "bbm/runner.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>

#include "bbm/job_split.hpp"
#include "bbm/migration_store.hpp"
#include "db/connection.hpp"
#include "metrics/metrics.hpp"
#include "throttle/throttle.hpp"

namespace bbmd::bbm {

namespace {

log::Fields migration_fields(const Migration& m) {
  return {{log::kBbmId, m.id}, {log::kBbmName, m.name}};
}

log::Fields job_fields(const Migration& m, const Job& job) {
  auto f = migration_fields(m);
  f[log::kJobId] = job.id;
  f[log::kJobStartId] = job.min_value;
  f[log::kJobEndId] = job.max_value;
  f[log::kJobBatchSize] = job.batch_size;
  f[log::kJobAttempts] = job.attempts;
  return f;
}

metrics::MigrationLabels labels(const Migration& m) { return {m.id, m.name}; }

FailureCode code_for(const db::Error& e) {
  return e.kind() == db::ErrorKind::query_canceled ? FailureCode::job_timeout : FailureCode::work_function_error;
}

}  // namespace

Runner::Runner(const WorkRegistry& registry, metrics::Metrics& metrics, log::Logger logger, RunnerOptions options,
               BatchSizes* sizes, throttle::Throttle* throttle, std::shared_ptr<db::Pool> lookahead_pool)
    : registry_(registry),
      metrics_(metrics),
      logger_(std::move(logger)),
      options_(std::move(options)),
      validator_(registry),
      sizes_(sizes ? sizes : &own_sizes_),
      throttle_(throttle),
      lookahead_(lookahead_pool ? std::make_unique<RangePrefetch>(std::move(lookahead_pool),
                                                                  options_.batch.statement_timeout,
                                                                  options_.batch.lock_timeout)
                                : nullptr) {}

boost::asio::awaitable<StepResult> Runner::step(db::Connection& conn, const Migration& m) {
  Target target;
  const auto verdict = co_await validator_.validate(conn, m, target);
  if (!verdict.runnable()) co_return co_await settle_verdict(conn, m, verdict);
  if (auto held = co_await check_throttle(conn, m, target)) co_return *held;
  if (m.hold_code) {
    co_await clear_hold(conn, m);
    metrics_.held(labels(m), "", false);
    logger_.info("migration no longer held", migration_fields(m));
  }

  const auto lease = co_await lease_next_job(conn, m, target, sizes_->next(m), options_.lease);
  if (lease.range_query_seconds) metrics_.batching_query(labels(m), *lease.range_query_seconds);
  switch (lease.kind) {
    case LeaseOutcome::Kind::gone:
      co_return StepResult::of(StepResult::Kind::gone);
    case LeaseOutcome::Kind::busy:
      co_return StepResult::of(StepResult::Kind::busy);
    case LeaseOutcome::Kind::finished:
      metrics_.migration_state(labels(m), "finished");
      metrics_.progress(labels(m), 100.0);
      logger_.info("background migration finished", migration_fields(m));
      co_return StepResult::of(StepResult::Kind::migration_finished);
    case LeaseOutcome::Kind::failed: {
      metrics_.migration_state(labels(m), "failed");
      auto f = migration_fields(m);
      f[log::kErrorCode] = static_cast<int>(FailureCode::max_job_retry);
      f[log::kJobId] = lease.exhausted_job_id;
      logger_.error("background migration failed: a job ran out of attempts", f);
      co_return StepResult::of(StepResult::Kind::migration_failed,
                           "job " + std::to_string(lease.exhausted_job_id) + " failed after its last attempt");
    }
    case LeaseOutcome::Kind::leased:
      break;
  }
  if (lease.job.takeover) {
    metrics_.lease_takeover(labels(m));
    logger_.warn("took over an expired lease", job_fields(m, lease.job));
  }
  if (lease.first_job || !m.total_tuple_count) co_await note_first_job(conn, m, target);
  co_return co_await run_jobs(conn, m, target, lease.job);
}

// Job after job on one migration: each batch's commit leases the next range (chained_lease), so
// back-to-back jobs need no lease transaction of their own. The chain ends when no job was
// chained, at shutdown, after chain_for, or when the throttle says stop (checked before every
// job, as before every lease); a chained job that will not run now is released.
boost::asio::awaitable<StepResult> Runner::run_jobs(db::Connection& conn, const Migration& m, const Target& target,
                                                    Job job) {
  const auto until = std::chrono::steady_clock::now() + options_.chain_for;
  for (;;) {
    std::optional<Job> next;
    const bool chain = !stopping_ && std::chrono::steady_clock::now() < until;
    auto result = co_await run_job(conn, m, target, job, chain ? &next : nullptr);
    if (!next) co_return result;
    if (stopping_) {
      co_await release_lease(conn, *next);
      co_return result;
    }
    auto held = co_await check_throttle(conn, m, target);
    if (held) {
      co_await release_lease(conn, *next);
      co_return *held;
    }
    job = *next;
  }
}

boost::asio::awaitable<StepResult> Runner::settle_verdict(db::Connection& conn, const Migration& m,
                                                          const Verdict& v) {
  auto f = migration_fields(m);
  f[log::kReason] = v.reason;
  if (v.kind == Verdict::Kind::hold) {
    const bool new_hold = co_await hold_migration(conn, m, v, options_.hold_interval);
    if (new_hold) {
      metrics_.held(labels(m), v.hold_code, true);
      f["hold_code"] = v.hold_code;
      logger_.warn("background migration held", f);
    }
    co_return StepResult::of(StepResult::Kind::held, v.reason);
  }
  validator_.forget(m.id);
  const bool failed_now = co_await fail_migration(conn, m, v);
  if (failed_now) {
    metrics_.migration_state(labels(m), "failed");
    f[log::kErrorCode] = static_cast<int>(v.code);
    logger_.error("background migration failed validation", f);
  }
  co_return StepResult::of(StepResult::Kind::migration_failed, v.reason);
}

// Asks the health indicators before leasing; a stop holds the migration for the pause it names
// (WAL-rate pacing) or else for a backoff interval that doubles while the signal lasts. Every decision is logged and counted with its reason.
boost::asio::awaitable<std::optional<StepResult>> Runner::check_throttle(db::Connection& conn, const Migration& m,
                                                                          const Target& target) {
  if (!throttle_) co_return std::nullopt;
  // The waiters of the last batch delay only the next one: the count is used once.
  const throttle::Context ctx{m.id, target.table_oid, m.table_name, last_lock_waiters_[m.id]};
  last_lock_waiters_.erase(m.id);
  const auto stop = co_await throttle_->check(conn, ctx);
  if (!stop) {
    throttle_streak_.erase(m.id);
    co_return std::nullopt;
  }
  const std::chrono::milliseconds hold = std::min(options_.throttle_max, stop->pause.count() > 0 ? stop->pause : backoff_hold(m.id));
  const auto verdict = Verdict::held(kHoldThrottled, stop->reason + ": " + stop->detail);
  co_await hold_migration(conn, m, verdict, hold);
  metrics_.held(labels(m), stop->reason, true);
  metrics_.throttled(stop->reason, hold.count() / 1000.0);
  auto f = migration_fields(m);
  f[log::kReason] = stop->reason;
  f["detail"] = stop->detail;
  f["hold_s"] = hold.count() / 1000.0;
  logger_.warn("background migration throttled", f);
  auto held = StepResult::of(StepResult::Kind::held, verdict.reason);
  if (stop->pause.count() > 0) held.retry_after = hold;
  co_return held;
}

std::chrono::milliseconds Runner::backoff_hold(std::int64_t migration_id) {
  const int streak = std::min(throttle_streak_[migration_id]++, 20);
  return options_.throttle_initial * (std::int64_t{1} << streak);
}

boost::asio::awaitable<void> Runner::note_first_job(db::Connection& conn, const Migration& m, const Target& target) {
  metrics_.migration_state(labels(m), "running");
  try {
    auto f = migration_fields(m);
    f["total_tuple_count"] = co_await estimate_tuples(conn, m, target);
    logger_.info("background migration started", f);
  } catch (const db::Error& e) {
    if (e.breaks_connection()) throw;
    auto f = migration_fields(m);
    f[log::kError] = e.what();
    logger_.warn("could not estimate the migration's tuple count", f);
  }
}

boost::asio::awaitable<StepResult> Runner::run_job(db::Connection& conn, const Migration& m, const Target& target,
                                                   const Job& job, std::optional<Job>* chained) {
  auto batch_options = options_.batch;
  batch_options.on_sub_batch = [this, &m](double s) { metrics_.sub_batch(labels(m), s); };
  auto fields = job_fields(m, job);
  std::string error;
  FailureCode code = FailureCode::unknown;
  bool connection_error = false;
  InCommit in_commit;
  if (chained) {
    // The lookahead finds where the next range ends while this batch runs; the chained lease
    // takes it if it finished in time (and the cursor did not move), else scans as usual.
    const std::int64_t next_size = sizes_->next(m);
    const std::int64_t next_from = job.max_value + 1;
    const auto ex = co_await boost::asio::this_coro::executor;
    if (lookahead_) lookahead_->start(ex, target, next_from, m.max_value, next_size);
    in_commit = [this, &m, &target, next_from, next_size] {
      std::optional<KeyRange> found_range;
      const auto found = lookahead_ ? lookahead_->ready(next_from, next_size) : std::nullopt;
      if (found) {
        metrics_.batching_query(labels(m), found->seconds);
        found_range = found->range;
      }
      return chained_lease(m, target, next_size, options_.lease, found_range);
    };
  }
  const auto start = std::chrono::steady_clock::now();
  try {
    const auto out = co_await run_batch(conn, m, target, job, batch_options, in_commit);
    fields[log::kDurationS] = out.seconds;
    if (out.kind == BatchOutcome::Kind::lease_lost) {
      metrics_.job_finished(labels(m), "lease_lost", out.seconds, job.batch_size, 0);
      logger_.warn("lease lost before commit; batch not applied", fields);
      co_return StepResult::of(StepResult::Kind::job_abandoned);
    }
    metrics_.job_finished(labels(m), "finished", out.seconds, job.batch_size, out.rows);
    sizes_->observe(m, job.batch_size, out.seconds);
    // Between the collector's exact refreshes, the committed job's upper key is a free estimate.
    const double span = static_cast<double>(m.max_value - m.min_value + 1);
    if (span > 0) metrics_.progress(labels(m), std::min(99.9, 100.0 * static_cast<double>(job.max_value - m.min_value + 1) / span));
    last_lock_waiters_[m.id] = out.lock_waiters;
    fields[log::kRows] = out.rows;
    logger_.info("job finished", fields);
    if (chained && out.in_commit) *chained = chained_job(*out.in_commit);
    co_return StepResult::of(StepResult::Kind::job_finished);
  } catch (const db::Error& e) {
    error = e.what();
    code = code_for(e);
    connection_error = e.breaks_connection();
    // A dropped object or a revoked grant: the next step validates afresh and holds the migration
    // with the reason, rather than spending the job's attempts until the cached verdict expires.
    if (e.kind() == db::ErrorKind::undefined_object || e.kind() == db::ErrorKind::insufficient_privilege) {
      validator_.forget(m.id);
    }
  } catch (const std::exception& e) {
    error = e.what();
    code = FailureCode::work_function_error;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fields[log::kDurationS] = seconds;
  fields[log::kError] = error;
  if (connection_error) {
    // Nothing can be recorded on a dead connection; the lease expires and the job is taken over.
    metrics_.job_finished(labels(m), "connection_lost", seconds, job.batch_size, 0);
    logger_.error("connection lost during job; its lease will expire", fields);
    throw db::Error(db::ErrorKind::connection_lost, "", error);
  }
  if (stopping_ && code == FailureCode::job_timeout) {
    co_await release_lease(conn, job);
    metrics_.job_finished(labels(m), "canceled", seconds, job.batch_size, 0);
    logger_.warn("job canceled for shutdown; lease released", fields);
    co_return StepResult::of(StepResult::Kind::job_abandoned);
  }
  co_await record_job_failure(conn, job, code, error);
  metrics_.job_finished(labels(m), "failed", seconds, job.batch_size, 0);
  fields[log::kErrorCode] = static_cast<int>(code);
  if (code == FailureCode::job_timeout) co_await after_timeout(conn, m, job, fields);
  logger_.error("job failed", fields);
  co_return StepResult::of(StepResult::Kind::job_failed, error);
}

}  // namespace bbmd::bbm

namespace bbmd::bbm {

// A timeout says the batch was too big: later batches shrink, and this one shrinks or splits.
boost::asio::awaitable<void> Runner::after_timeout(db::Connection& conn, const Migration& m, const Job& job,
                                                   log::Fields& fields) {
  const auto limit = std::chrono::duration<double>(options_.batch.statement_timeout).count();
  sizes_->observe(m, job.batch_size, 2 * limit);
  const auto action = co_await shrink_or_split(conn, m, job, options_.lease.max_attempts);
  if (!action.empty()) fields["timeout_action"] = action;
}

}  // namespace bbmd::bbm
