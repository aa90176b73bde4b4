// The serve-mode worker loop (see worker.hpp).
#include "bbm/run/worker.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bbm/run/checks.hpp"
#include "bbm/run/next_step.hpp"
#include "bbm/store/pg_store.hpp"
#include "db/pool.hpp"
#include "metrics/metrics.hpp"

namespace bbmd::bbm {

namespace {

using Clock = std::chrono::steady_clock;

const char* sleep_reason(PassOutcome outcome) {
  switch (outcome) {
    case PassOutcome::worked: return "job_interval";
    case PassOutcome::idle:
    case PassOutcome::fleet_full: return "idle";
    case PassOutcome::error: return "error";
  }
  return "idle";
}

}  // namespace

Worker::Worker(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool, const WorkRegistry& registry,
               metrics::Metrics& metrics, WorkerOptions options, BatchSizes* sizes, throttle::Throttle* throttle)
    : pool_(std::move(pool)),
      registry_(registry),
      metrics_(metrics),
      options_(options),
      validator_(registry),
      throttle_(throttle),
      runner_(metrics, log::Logger(log::kWorkerComponent), options.runner, sizes, pool_),
      backoff_(options.backoff),
      timer_(ex),
      rng_(std::random_device{}()) {}

double Worker::random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_); }

void Worker::stop() {
  stopping_ = true;
  runner_.set_stopping(true);
  timer_.cancel();
}

boost::asio::awaitable<void> Worker::cancel_in_flight() {
  if (in_flight_) co_await in_flight_->cancel();
}

void Worker::reconfigure(const WorkerOptions& options) {
  options_ = options;
  runner_.set_options(options.runner);
  backoff_.set_policy(options.backoff);
}

void Worker::wake() {
  woken_ = true;
  if (wakeable_) timer_.cancel();
}

boost::asio::awaitable<void> Worker::sleep(std::chrono::milliseconds delay, bool wakeable) {
  if (delay.count() <= 0 || stopping_ || (wakeable && woken_)) co_return;
  wakeable_ = wakeable;
  timer_.expires_after(delay);
  co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  wakeable_ = false;
}

boost::asio::awaitable<void> Worker::run() {
  const auto jitter = startup_jitter(options_.startup_jitter, random01());
  runner_.logger().info("worker starting", {{"startup_jitter_s", jitter.count() / 1000.0}});
  co_await sleep(jitter);
  while (!stopping_) {
    const auto start = Clock::now();
    woken_ = false;  // a change notified from here on is one this pass may not have seen
    const auto outcome = co_await pass();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    const auto since_job = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - job_started_.value_or(start));
    metrics_.run_finished(outcome == PassOutcome::worked, took.count() / 1000.0);
    auto delay = backoff_.next(outcome, since_job, random01());
    if (outcome == PassOutcome::idle && paced_for_) delay = *paced_for_;
    if (delay.count() > 0) {
      metrics_.slept(sleep_reason(outcome), delay.count() / 1000.0);
      runner_.logger().debug("worker sleeping", {{log::kReason, sleep_reason(outcome)}, {"sleep_s", delay.count() / 1000.0}});
    }
    co_await sleep(delay, outcome != PassOutcome::worked && !paced_for_);
  }
  runner_.logger().info("worker stopped");
}

// Steps the runnable migrations in turn until one does something, or finds the fleet full (no
// other could start either); idle when none does. The runner stays on a migration from job to
// job while next_step() allows, so a busy worker lists at most once per stay_for.
boost::asio::awaitable<PassOutcome> Worker::pass() {
  paced_for_.reset();
  job_started_.reset();
  try {
    auto conn = co_await pool_->acquire();
    PgStore store(*conn);
    PgChecks checks(*conn, validator_, throttle_);
    const auto candidates = co_await store.runnable(registry_.names(), options_.runner.lease);
    const StayContext context{false, stopping_, false};
    for (const auto& m : candidates) {
      if (stopping_) break;
      in_flight_ = &*conn;
      const auto result = co_await runner_.step(store, checks, m);
      in_flight_ = nullptr;
      const auto next = next_step(result, context);
      job_started_ = result.job_started;
      if (next.pause) paced_for_ = std::min(paced_for_.value_or(*next.pause), *next.pause);
      if (next.outcome != PassOutcome::idle) co_return next.outcome;
    }
    co_return PassOutcome::idle;
  } catch (const std::exception& e) {
    in_flight_ = nullptr;
    runner_.logger().error("worker pass failed", {{log::kError, e.what()}});
  }
  co_return PassOutcome::error;
}

}  // namespace bbmd::bbm
