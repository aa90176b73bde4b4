#pragma once
// The pure decision "how long until the next pass", from the last pass's outcome.
#include <chrono>

namespace bbmd::bbm {

// fleet_full: a lease found the whole fleet at maxrunningjobs, so no migration could start.
enum class PassOutcome { worked, idle, error, fleet_full };

struct BackoffPolicy {
  std::chrono::milliseconds job_interval{0};  // minimum gap between job starts (registry's jobinterval)
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{10000};
  double multiplier = 2.0;
  double jitter = 0.2;  // +/- fraction
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy) : policy_(policy) {}
  // `random01` in [0, 1) drives the jitter, passed in so the decision stays deterministic in tests.
  [[nodiscard]] std::chrono::milliseconds next(PassOutcome outcome, std::chrono::milliseconds pass_took,
                                               double random01);
  void set_policy(BackoffPolicy policy) { policy_ = policy; }
  [[nodiscard]] int streak() const noexcept { return streak_; }

 private:
  BackoffPolicy policy_;
  int streak_ = 0;  // consecutive passes that did no work
};

// A uniformly random delay in [0, max], for spreading a fleet restart.
[[nodiscard]] std::chrono::milliseconds startup_jitter(std::chrono::milliseconds max, double random01);

}  // namespace bbmd::bbm
