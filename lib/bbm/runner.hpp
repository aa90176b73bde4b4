#pragma once
// One step of work on one migration: validate it, lease a job, run it, record the outcome.
// Shared by the daemon's worker and the foreground `background-migrate run`.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "bbm/batch.hpp"
#include "bbm/lease.hpp"
#include "bbm/migration.hpp"
#include "bbm/validator.hpp"
#include "bbm/work_registry.hpp"
#include "log/log.hpp"

namespace bbmd::metrics {
class Metrics;
}
namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct RunnerOptions {
  LeaseOptions lease;
  BatchOptions batch;
  std::chrono::milliseconds hold_interval{60000};
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
  std::int64_t rows = 0;
  std::string reason;  // for held / migration_failed / job_failed
  static StepResult of(Kind kind, std::int64_t rows = 0, std::string reason = {}) {
    return StepResult{kind, rows, std::move(reason)};
  }
  [[nodiscard]] bool ran_job() const noexcept {
    return kind == Kind::job_finished || kind == Kind::job_failed || kind == Kind::job_abandoned;
  }
};

class Runner {
 public:
  Runner(const WorkRegistry& registry, metrics::Metrics& metrics, log::Logger logger, RunnerOptions options);

  boost::asio::awaitable<StepResult> step(db::Connection& conn, const Migration& m);

  // Set by the owner when shutdown begins: a cancelled job then gives its lease back instead of
  // counting a failed attempt.
  void set_stopping(bool stopping) noexcept { stopping_ = stopping; }
  void set_options(RunnerOptions options) { options_ = std::move(options); }
  [[nodiscard]] const RunnerOptions& options() const noexcept { return options_; }
  [[nodiscard]] const log::Logger& logger() const noexcept { return logger_; }

 private:
  boost::asio::awaitable<StepResult> settle_verdict(db::Connection& conn, const Migration& m, const Verdict& v);
  boost::asio::awaitable<StepResult> run_job(db::Connection& conn, const Migration& m, const Target& target,
                                             const Job& job);
  boost::asio::awaitable<void> note_first_job(db::Connection& conn, const Migration& m, const Target& target);

  const WorkRegistry& registry_;
  metrics::Metrics& metrics_;
  log::Logger logger_;
  RunnerOptions options_;
  Validator validator_;
  bool stopping_ = false;
};

}  // namespace bbmd::bbm
