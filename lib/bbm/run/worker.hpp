#pragma once
// The daemon's worker loop: passes over runnable migrations (a pass steps them until one does
// something), with no wait while work remains and capped exponential backoff with jitter when
// idle or failing.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bbm/check/validator.hpp"
#include "bbm/run/backoff.hpp"
#include "bbm/run/runner.hpp"

namespace bbmd::db {
class Pool;
class Connection;
}  // namespace bbmd::db
namespace bbmd::throttle {
class Throttle;
}

namespace bbmd::bbm {

struct WorkerOptions {
  RunnerOptions runner;
  BackoffPolicy backoff;
  std::chrono::milliseconds startup_jitter{0};
};

class Worker {
 public:
  // `sizes` and `throttle` are shared by the process's workers (either may be null: see Runner;
  // without a throttle nothing throttles).
  Worker(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool, const WorkRegistry& registry,
         metrics::Metrics& metrics, WorkerOptions options, BatchSizes* sizes = nullptr,
         throttle::Throttle* throttle = nullptr);

  // Runs until stop(); returns once the in-flight job (if any) has committed or rolled back.
  boost::asio::awaitable<void> run();
  // Stage 1 of shutdown: lease nothing new, wake from any sleep.
  void stop();
  // Stage 2: ask the server to cancel the in-flight statement; the job's lease is then released.
  boost::asio::awaitable<void> cancel_in_flight();
  // A migration was queued or made active (ChangeListener): an idle or failing worker's
  // backoff sleep ends now, one that is mid-pass skips its next such sleep. A job interval, a
  // WAL-rate pause and the startup jitter are pacing, not polling, and are kept.
  void wake();
  // SIGHUP: new pacing and job settings; take effect from the next pass.
  void reconfigure(const WorkerOptions& options);

 private:
  boost::asio::awaitable<PassOutcome> pass();
  boost::asio::awaitable<void> sleep(std::chrono::milliseconds delay, bool wakeable = false);
  double random01();

  std::shared_ptr<db::Pool> pool_;
  const WorkRegistry& registry_;
  metrics::Metrics& metrics_;
  WorkerOptions options_;
  Validator validator_;
  throttle::Throttle* throttle_;
  Runner runner_;
  Backoff backoff_;
  boost::asio::steady_timer timer_;
  std::mt19937_64 rng_;
  db::Connection* in_flight_ = nullptr;
  // The shortest known pause of a migration held in the last pass (WAL-rate pacing): an idle
  // worker sleeps exactly that long, so the paced rate is not diluted by backoff overshoot.
  std::optional<std::chrono::milliseconds> paced_for_;
  // When the last pass's job began: the job interval is the gap between job starts.
  std::optional<std::chrono::steady_clock::time_point> job_started_;
  bool stopping_ = false;
  bool woken_ = false;     // wake() since the current pass began
  bool wakeable_ = false;  // the sleep in progress is a backoff wake() may end
};

}  // namespace bbmd::bbm
