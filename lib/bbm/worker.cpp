// The serve-mode worker loop (see worker.hpp).
#include "bbm/worker.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bbm/migration_store.hpp"
#include "db/pool.hpp"
#include "metrics/metrics.hpp"

namespace bbmd::bbm {

namespace {

using Clock = std::chrono::steady_clock;

// Back-to-back jobs of one migration skip the listing (a round trip per job). The lease re-reads
// the row's status under its lock, so a pause still wins at the next job; other edits, holds and
// newly queued migrations are seen at the next listing, at most this long after the last one.
constexpr auto kListingReuse = std::chrono::seconds(1);

const char* sleep_reason(PassOutcome outcome) {
  switch (outcome) {
    case PassOutcome::worked: return "job_interval";
    case PassOutcome::idle: return "idle";
    case PassOutcome::error: return "error";
  }
  return "idle";
}

PassOutcome outcome_of(const StepResult& r) {
  switch (r.kind) {
    case StepResult::Kind::job_failed: return PassOutcome::error;
    case StepResult::Kind::job_finished:
    case StepResult::Kind::job_abandoned:
    case StepResult::Kind::migration_finished:
    case StepResult::Kind::migration_failed: return PassOutcome::worked;
    default: return PassOutcome::idle;
  }
}

}  // namespace

Worker::Worker(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool, const WorkRegistry& registry,
               metrics::Metrics& metrics, WorkerOptions options, BatchSizes* sizes, throttle::Throttle* throttle)
    : pool_(std::move(pool)),
      registry_(registry),
      metrics_(metrics),
      options_(options),
      runner_(registry, metrics, log::Logger(log::kWorkerComponent), options.runner, sizes, throttle, pool_),
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

boost::asio::awaitable<void> Worker::sleep(std::chrono::milliseconds delay) {
  if (delay.count() <= 0 || stopping_) co_return;
  timer_.expires_after(delay);
  co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
}

boost::asio::awaitable<void> Worker::run() {
  const auto jitter = startup_jitter(options_.startup_jitter, random01());
  runner_.logger().info("worker starting", {{"startup_jitter_s", jitter.count() / 1000.0}});
  co_await sleep(jitter);
  while (!stopping_) {
    const auto start = Clock::now();
    const auto outcome = co_await pass();
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    metrics_.run_finished(outcome == PassOutcome::worked, took.count() / 1000.0);
    auto delay = backoff_.next(outcome, took, random01());
    if (outcome == PassOutcome::idle && paced_for_) delay = *paced_for_;
    if (delay.count() > 0) {
      metrics_.slept(sleep_reason(outcome), delay.count() / 1000.0);
      runner_.logger().debug("worker sleeping", {{log::kReason, sleep_reason(outcome)}, {"sleep_s", delay.count() / 1000.0}});
    }
    co_await sleep(delay);
  }
  runner_.logger().info("worker stopped");
}

boost::asio::awaitable<PassOutcome> Worker::pass() {
  paced_for_.reset();
  try {
    auto conn = co_await pool_->acquire();
    if (last_worked_ && Clock::now() - listed_at_ < kListingReuse) {
      const std::vector<Migration> again(1, *last_worked_);
      const auto outcome = co_await step_each(*conn, again);
      if (outcome) co_return *outcome;
    }
    const auto candidates = co_await runnable_migrations(*conn, registry_.names());
    listed_at_ = Clock::now();
    const auto outcome = co_await step_each(*conn, candidates);
    co_return outcome.value_or(PassOutcome::idle);
  } catch (const std::exception& e) {
    in_flight_ = nullptr;
    last_worked_.reset();
    runner_.logger().error("worker pass failed", {{log::kError, e.what()}});
  }
  co_return PassOutcome::error;
}

boost::asio::awaitable<std::optional<PassOutcome>> Worker::step_each(db::Connection& conn,
                                                                     const std::vector<Migration>& candidates) {
  last_worked_.reset();
  for (const auto& m : candidates) {
    if (stopping_) break;
    in_flight_ = &conn;
    const auto result = co_await runner_.step(conn, m);
    in_flight_ = nullptr;
    // Reused only as listed after its first job: with its tuple estimate stored and no hold to clear.
    if (result.kind == StepResult::Kind::job_finished && m.total_tuple_count && !m.hold_code) last_worked_ = m;
    if (result.retry_after.count() > 0) paced_for_ = std::min(paced_for_.value_or(result.retry_after), result.retry_after);
    const auto outcome = outcome_of(result);
    if (outcome != PassOutcome::idle) co_return outcome;
  }
  co_return std::nullopt;
}

}  // namespace bbmd::bbm
