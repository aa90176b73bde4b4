#pragma once
// The logs and metrics of a step's outcome, from the StepResult the runner returns: one place
// decides what an operator sees for each thing a step did.
#include "bbm/model/bbm.hpp"
#include "bbm/model/step_result.hpp"
#include "log/log.hpp"

namespace bbmd::metrics {
class Metrics;
}

namespace bbmd::bbm {

class StepReporter {
 public:
  StepReporter(metrics::Metrics& metrics, log::Logger logger) : metrics_(metrics), logger_(std::move(logger)) {}
  void report(const Bbm& m, const StepResult& r) const;
  [[nodiscard]] const log::Logger& logger() const noexcept { return logger_; }

 private:
  void report_verdict(const Bbm& m, const StepResult& r) const;
  void report_throttle(const Bbm& m, const StepResult& r) const;
  void report_settled(const Bbm& m, const StepResult& r) const;
  void report_start(const Bbm& m, const StepResult& r) const;
  void report_job(const Bbm& m, const JobRun& run) const;

  metrics::Metrics& metrics_;
  log::Logger logger_;
};

}  // namespace bbmd::bbm
