#pragma once
// One step of work on one migration: validate it, lease a job, run it, record the outcome.
// Shared by the daemon's worker and the foreground `background-migrate run`.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "bbm/batch.hpp"
#include "bbm/batch_size.hpp"
#include "bbm/lease.hpp"
#include "bbm/migration.hpp"
#include "bbm/range_prefetch.hpp"
#include "bbm/validator.hpp"
#include "bbm/work_registry.hpp"
#include "log/log.hpp"

namespace bbmd::metrics {
class Metrics;
}
namespace bbmd::throttle {
class Throttle;
}
namespace bbmd::db {
class Connection;
class Pool;
}

namespace bbmd::bbm {

struct RunnerOptions {
  LeaseOptions lease;
  BatchOptions batch;
  std::chrono::milliseconds hold_interval{60000};
  // A throttled migration is held for initial, doubling while the signal lasts, up to max.
  std::chrono::milliseconds throttle_initial{250};
  std::chrono::milliseconds throttle_max{10000};
  // How long one step may go on from job to job through chained leases (0: one job per step).
  // Bounded like the worker's listing reuse, so other migrations and edits are seen as often.
  std::chrono::milliseconds chain_for{1000};
};

struct StepResult {
  enum class Kind {
    job_finished,   // a batch committed
    job_failed,     // a batch failed and was recorded (attempt counted)
    job_abandoned,  // lease lost, or released for shutdown, or the connection broke mid-job
    migration_finished,
    migration_failed,
    held,
    busy,  // other workers hold the remaining jobs
    gone,  // not active or running any more
  } kind = Kind::gone;
  std::string reason;  // for held / migration_failed / job_failed
  std::chrono::milliseconds retry_after{0};  // held for a known pause (WAL-rate pacing): this long
  static StepResult of(Kind kind, std::string reason = {}) {
    return StepResult{kind, std::move(reason), {}};
  }
  [[nodiscard]] bool ran_job() const noexcept {
    return kind == Kind::job_finished || kind == Kind::job_failed || kind == Kind::job_abandoned;
  }
};

class Runner {
 public:
  // `sizes` (adaptive batch sizes, shared by a process's workers) and `throttle` may be null:
  // then every job uses the migration's batch_size and nothing throttles. `lookahead_pool`, if
  // given, lends a spare connection to find the next range while a batch runs (RangePrefetch).
  Runner(const WorkRegistry& registry, metrics::Metrics& metrics, log::Logger logger, RunnerOptions options,
         BatchSizes* sizes = nullptr, throttle::Throttle* throttle = nullptr,
         std::shared_ptr<db::Pool> lookahead_pool = nullptr);

  boost::asio::awaitable<StepResult> step(db::Connection& conn, const Migration& m);

  // Set by the owner when shutdown begins: a cancelled job then gives its lease back instead of
  // counting a failed attempt, and a running range lookahead is cancelled.
  void set_stopping(bool stopping) noexcept {
    stopping_ = stopping;
    if (stopping && lookahead_) lookahead_->stop();
  }
  void set_options(RunnerOptions options) { options_ = std::move(options); }
  [[nodiscard]] const RunnerOptions& options() const noexcept { return options_; }
  [[nodiscard]] const log::Logger& logger() const noexcept { return logger_; }

 private:
  boost::asio::awaitable<StepResult> settle_verdict(db::Connection& conn, const Migration& m, const Verdict& v);
  boost::asio::awaitable<std::optional<StepResult>> check_throttle(db::Connection& conn, const Migration& m,
                                                                   const Target& target);
  std::chrono::milliseconds backoff_hold(std::int64_t migration_id);
  boost::asio::awaitable<void> after_timeout(db::Connection& conn, const Migration& m, const Job& job,
                                             log::Fields& fields);
  boost::asio::awaitable<StepResult> run_jobs(db::Connection& conn, const Migration& m, const Target& target,
                                              Job job);
  // `chained`, if given, asks the batch's commit to lease the next job and receives it.
  boost::asio::awaitable<StepResult> run_job(db::Connection& conn, const Migration& m, const Target& target,
                                             const Job& job, std::optional<Job>* chained);
  boost::asio::awaitable<void> note_first_job(db::Connection& conn, const Migration& m, const Target& target);

  const WorkRegistry& registry_;
  metrics::Metrics& metrics_;
  log::Logger logger_;
  RunnerOptions options_;
  Validator validator_;
  BatchSizes own_sizes_{false, 1.0};
  BatchSizes* sizes_;
  throttle::Throttle* throttle_;
  std::unique_ptr<RangePrefetch> lookahead_;
  std::map<std::int64_t, int> throttle_streak_;           // consecutive throttled checks per migration
  std::map<std::int64_t, std::int64_t> last_lock_waiters_;  // per migration, from its last batch
  bool stopping_ = false;
};

}  // namespace bbmd::bbm
