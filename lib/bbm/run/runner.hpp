#pragma once
// Runs a migration's jobs: validate it, ask the throttle, lease a job (or take the one the last
// commit leased), run it through the store, and return what happened as a value. A step stays on
// its migration from job to job as next_step() allows; each job's outcome goes to the reporter.
// Shared by the daemon's worker and the foreground `background-migrate run`.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "bbm/model/step_result.hpp"
#include "bbm/report/step_reporter.hpp"
#include "bbm/run/batch_sizer.hpp"
#include "bbm/store/store.hpp"

namespace bbmd::db {
class Pool;
}

namespace bbmd::bbm {

class Checks;
class RangeLookahead;

struct RunnerOptions {
  LeaseOptions lease;
  BatchOptions batch;
  std::chrono::milliseconds hold_interval{60000};
  // A throttled migration is held for initial, doubling while the signal lasts, up to max.
  std::chrono::milliseconds throttle_initial{250};
  std::chrono::milliseconds throttle_max{10000};
  // How long one step may stay on a migration, each job's commit leasing the next (0: one job
  // per step). Bounded, so other migrations and operators' edits are seen as often.
  std::chrono::milliseconds stay_for{1000};
  // The minimum gap between job starts of one worker (jobinterval): with one set, every job is
  // a step of its own and nothing is leased ahead, so the worker's pause spaces every job.
  std::chrono::milliseconds job_interval{0};
};

class Runner {
 public:
  // `sizes` (adaptive batch sizes, shared by a process's workers) may be null: every job then
  // uses the migration's batch_size. `lookahead_pool`, if given, lends a spare connection to find
  // the next range while a batch runs (RangeLookahead).
  Runner(metrics::Metrics& metrics, log::Logger logger, RunnerOptions options, BatchSizes* sizes = nullptr,
         std::shared_ptr<db::Pool> lookahead_pool = nullptr);
  ~Runner();

  // Jobs of `m` while next_step() says stay; returns the last job's result (or why none ran).
  boost::asio::awaitable<StepResult> step(Store& store, Checks& checks, const Bbm& m);

  // Set by the owner when shutdown begins: a cancelled job then gives its lease back instead of
  // counting a failed attempt, and a running range lookahead is cancelled.
  void set_stopping(bool stopping) noexcept;
  void set_options(RunnerOptions options) { options_ = std::move(options); }
  [[nodiscard]] const RunnerOptions& options() const noexcept { return options_; }
  [[nodiscard]] const log::Logger& logger() const noexcept { return reporter_.logger(); }

 private:
  // One job: `carried` if the last commit leased it, else a lease of its own. With `chain`, its
  // commit leases the next job too.
  boost::asio::awaitable<StepResult> run_one(Store& store, Checks& checks, const Bbm& m, std::optional<Job> carried,
                                             bool chain);
  boost::asio::awaitable<StepResult> settle_verdict(Store& store, Checks& checks, const Bbm& m, Verdict v);
  boost::asio::awaitable<std::optional<StepResult>> check_throttle(Store& store, Checks& checks, const Bbm& m,
                                                                   const Target& target);
  std::chrono::milliseconds throttle_hold(std::int64_t migration_id);
  boost::asio::awaitable<void> note_start(Store& store, const Bbm& m, const Target& target, StepResult& r);
  boost::asio::awaitable<void> run_job(Store& store, Checks& checks, const Bbm& m, const Target& target, const Job& job,
                                       bool chain, StepResult& r);

  RunnerOptions options_;
  StepReporter reporter_;
  BatchSizes own_sizes_{false, 1.0};
  BatchSizes* sizes_;
  std::unique_ptr<RangeLookahead> lookahead_;
  std::map<std::int64_t, int> throttle_streak_;             // consecutive throttled checks per migration
  std::map<std::int64_t, std::int64_t> last_lock_waiters_;  // per migration, from its last batch
  bool stopping_ = false;
};

}  // namespace bbmd::bbm
