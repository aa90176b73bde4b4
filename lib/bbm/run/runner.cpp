// A worker's steps on one migration (see runner.hpp).
#include "bbm/run/runner.hpp"

#include <algorithm>
#include <boost/asio/this_coro.hpp>

#include "bbm/run/checks.hpp"
#include "bbm/run/next_step.hpp"
#include "bbm/store/range_lookahead.hpp"
#include "db/error.hpp"
#include "db/pool.hpp"

namespace bbmd::bbm {

namespace {

using Clock = std::chrono::steady_clock;

FailureCode code_for(const db::Error& e) {
  if (e.kind() == db::ErrorKind::query_canceled) return FailureCode::job_timeout;
  if (e.sqlstate().starts_with("53")) return FailureCode::server_out_of_resources;
  return FailureCode::work_function_error;
}

}  // namespace

Runner::Runner(metrics::Metrics& metrics, log::Logger logger, RunnerOptions options, BatchSizes* sizes,
               std::shared_ptr<db::Pool> lookahead_pool)
    : options_(std::move(options)),
      reporter_(metrics, std::move(logger)),
      sizes_(sizes ? sizes : &own_sizes_),
      lookahead_(lookahead_pool ? std::make_unique<RangeLookahead>(std::move(lookahead_pool),
                                                                   options_.batch.statement_timeout,
                                                                   options_.batch.lock_timeout)
                                : nullptr) {}

Runner::~Runner() = default;

void Runner::set_stopping(bool stopping) noexcept {
  stopping_ = stopping;
  if (stopping && lookahead_) lookahead_->stop();
}

boost::asio::awaitable<StepResult> Runner::step(Store& store, Checks& checks, const Bbm& listed) {
  // The streak's own copy of the row: a hold it cleared and a start it noted are not redone.
  Bbm m = listed;
  const auto until = Clock::now() + options_.stay_for;
  const auto context = [&] { return StayContext{Clock::now() < until, stopping_, options_.job_interval.count() > 0}; };
  std::optional<Job> carried;
  for (;;) {
    auto r = co_await run_one(store, checks, m, std::move(carried), may_chain(context()));
    reporter_.report(m, r);
    if (r.finished_migration) {
      // Reported as the step-by-step lease's end would be: the job above, then the migration.
      auto end = StepResult::of(StepResult::Kind::migration_finished);
      end.job_started = r.job_started;
      reporter_.report(m, end);
      co_return end;
    }
    if (!next_step(r, context()).stay) {
      if (r.chained) co_await store.release(*r.chained);
      co_return r;
    }
    carried = std::move(r.chained);
    m.hold_code.reset();
    if (r.started) m.total_tuple_count = r.tuple_estimate.value_or(0);
  }
}

boost::asio::awaitable<StepResult> Runner::run_one(Store& store, Checks& checks, const Bbm& m,
                                                   std::optional<Job> carried, bool chain) {
  Target target;
  const auto verdict = co_await checks.validate(m, target);
  std::optional<StepResult> stopped;
  if (!verdict.runnable()) {
    stopped = co_await settle_verdict(store, checks, m, verdict);
  } else {
    stopped = co_await check_throttle(store, checks, m, target);
  }
  if (stopped) {
    if (carried) co_await store.release(*carried);
    co_return std::move(*stopped);
  }

  StepResult r;
  if (m.hold_code) {
    co_await store.clear_hold(m);
    r.hold_cleared = true;
  }
  r.job_started = Clock::now();
  if (!carried) {
    const auto lease = co_await store.lease(m, target, sizes_->next(m), options_.lease);
    if (lease.range_query_seconds) r.batching_query_seconds.push_back(*lease.range_query_seconds);
    switch (lease.kind) {
      case LeaseOutcome::Kind::gone: r.kind = StepResult::Kind::gone; co_return r;
      case LeaseOutcome::Kind::busy:
        r.kind = StepResult::Kind::busy;
        r.fleet_full = lease.fleet_full;
        co_return r;
      case LeaseOutcome::Kind::finished: r.kind = StepResult::Kind::migration_finished; co_return r;
      case LeaseOutcome::Kind::failed:
        r.kind = StepResult::Kind::migration_failed;
        r.exhausted_job_id = lease.exhausted_job_id;
        r.reason = "job " + std::to_string(lease.exhausted_job_id) + " failed after its last attempt";
        co_return r;
      case LeaseOutcome::Kind::leased: break;
    }
    // The job interval counts from the lease's answer: the server stamped this job's start
    // before it, and stamps the next one's after the next lease leaves, so the starts it records
    // lie at least the interval apart, however long each lease took.
    r.job_started = Clock::now();
    carried = lease.job;
    // A job the registry's own worker recorded has no batch size of bbmd's: the migration's.
    if (carried->batch_size <= 0) carried->batch_size = m.batch_size;
    if (lease.first_job || !m.total_tuple_count) co_await note_start(store, m, target, r);
  }
  co_await run_job(store, checks, m, target, *carried, chain, r);
  co_return r;
}

boost::asio::awaitable<StepResult> Runner::settle_verdict(Store& store, Checks& checks, const Bbm& m, Verdict v) {
  const bool hold = v.kind == Verdict::Kind::hold;
  auto r = StepResult::of(hold ? StepResult::Kind::held : StepResult::Kind::migration_failed, v.reason);
  if (hold) {
    r.verdict_is_news = co_await store.hold(m, v, options_.hold_interval);
  } else {
    checks.forget(m.id);
    r.verdict_is_news = co_await store.fail(m, v);
  }
  r.verdict = std::move(v);
  co_return r;
}

// Asks the health indicators before each job; a stop holds the migration for the pause it names
// (WAL-rate pacing) or else for a backoff interval that doubles while the signal lasts.
boost::asio::awaitable<std::optional<StepResult>> Runner::check_throttle(Store& store, Checks& checks, const Bbm& m,
                                                                          const Target& target) {
  // The waiters of the last batch delay only the next one: the count is used once.
  const throttle::Context ctx{m.id, target.table_oid, m.table_name, last_lock_waiters_[m.id]};
  last_lock_waiters_.erase(m.id);
  auto stop = co_await checks.throttle(ctx);
  if (!stop) {
    throttle_streak_.erase(m.id);
    co_return std::nullopt;
  }
  const bool paced = stop->pause.count() > 0;
  const auto hold = std::min(options_.throttle_max, paced ? stop->pause : throttle_hold(m.id));
  const auto verdict = Verdict::held(kHoldThrottled, stop->reason + ": " + stop->detail);
  co_await store.hold(m, verdict, hold);
  auto r = StepResult::of(StepResult::Kind::held, verdict.reason);
  if (paced) r.retry_after = hold;
  r.throttled = std::move(*stop);
  r.throttle_hold = hold;
  co_return r;
}

std::chrono::milliseconds Runner::throttle_hold(std::int64_t migration_id) {
  const int streak = std::min(throttle_streak_[migration_id]++, 20);
  return options_.throttle_initial * (std::int64_t{1} << streak);
}

boost::asio::awaitable<void> Runner::note_start(Store& store, const Bbm& m, const Target& target, StepResult& r) {
  r.started = true;
  try {
    r.tuple_estimate = co_await store.estimate_tuples(m, target);
  } catch (const db::Error& e) {
    if (e.breaks_connection()) throw;
    r.estimate_error = e.what();
  }
}

boost::asio::awaitable<void> Runner::run_job(Store& store, Checks& checks, const Bbm& m, const Target& target,
                                             const Job& job, bool chain, StepResult& r) {
  JobRun run;
  run.job = job;
  std::optional<ChainRequest> request;
  const bool by_limit = target.strategy == BatchingStrategy::null_keyset_limit;
  // The last range has no next one (and its end may be the largest bigint: nothing is added to it).
  if (chain && (by_limit || job.max_value < m.max_value)) {
    // By limit there is no range end to look up.
    request = ChainRequest{sizes_->next(m), options_.lease, by_limit ? nullptr : lookahead_.get()};
    // The lookahead finds where the next range ends while this batch runs; the chained lease
    // takes it if it finished in time (and the cursor did not move), else scans as usual.
    if (request->lookahead) {
      const auto ex = co_await boost::asio::this_coro::executor;
      lookahead_->start(ex, target, job.max_value + 1, m.max_value, request->batch_size);
    }
  }
  const auto start = Clock::now();
  bool connection_error = false;
  try {
    auto out = co_await store.run_batch(m, target, job, options_.batch, request ? &*request : nullptr);
    run.seconds = out.seconds;
    run.sub_batch_seconds = std::move(out.sub_batch_seconds);
    if (out.kind == BatchOutcome::Kind::lease_lost) {
      run.outcome = "lease_lost";
      r.kind = StepResult::Kind::job_abandoned;
      r.job = std::move(run);
      co_return;
    }
    run.outcome = "finished";
    run.rows = out.rows;
    sizes_->observe(m, job.batch_size, out.seconds);
    last_lock_waiters_[m.id] = out.lock_waiters;
    if (out.lookahead_seconds) r.batching_query_seconds.push_back(*out.lookahead_seconds);
    r.kind = StepResult::Kind::job_finished;
    r.chained = std::move(out.chained);
    r.finished_migration = out.finished_migration;
    r.job = std::move(run);
    co_return;
  } catch (const db::Error& e) {
    run.error = e.what();
    run.code = code_for(e);
    connection_error = e.breaks_connection();
    // A dropped object or a revoked grant: the next step validates afresh and holds the migration
    // with the reason, rather than spending the job's attempts until the cached verdict expires.
    if (e.kind() == db::ErrorKind::undefined_object || e.kind() == db::ErrorKind::insufficient_privilege) {
      checks.forget(m.id);
    }
  } catch (const std::exception& e) {
    run.error = e.what();
    run.code = FailureCode::work_function_error;
  }
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (connection_error) {
    // Nothing can be recorded on a dead connection; the lease expires and the job is taken over.
    run.outcome = "connection_lost";
    r.kind = StepResult::Kind::connection_lost;
    r.reason = run.error;
  } else if (stopping_ && run.code == FailureCode::job_timeout) {
    co_await store.release(job);
    run.outcome = "canceled";
    r.kind = StepResult::Kind::job_abandoned;
  } else {
    co_await store.record_failure(job, run.code, run.error);
    run.outcome = "failed";
    if (run.code == FailureCode::job_timeout) {
      // A timeout says the batch was too big: later batches shrink, and this one shrinks or splits.
      const auto limit = std::chrono::duration<double>(options_.batch.statement_timeout).count();
      sizes_->observe(m, job.batch_size, 2 * limit);
      run.timeout_action = co_await store.shrink_or_split(m, target, job, options_.lease.max_attempts);
    }
    r.kind = StepResult::Kind::job_failed;
    r.reason = run.error;
  }
  r.job = std::move(run);
}

}  // namespace bbmd::bbm
