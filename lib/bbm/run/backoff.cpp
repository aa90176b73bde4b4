// Exponential backoff with jitter, capped; no wait at all after a pass that did work.
#include "bbm/run/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace bbmd::bbm {

std::chrono::milliseconds Backoff::next(PassOutcome outcome, std::chrono::milliseconds pass_took, double random01) {
  using std::chrono::milliseconds;
  if (outcome == PassOutcome::worked) {
    streak_ = 0;
    return std::max(milliseconds(0), policy_.job_interval - pass_took);
  }
  ++streak_;
  // At the fleet's cap the running workers refill their own places (each lists again as its
  // migration ends), so a worker looking sooner would only take a place from one of them, and its
  // passes would compete with their batches for the server: it waits the longest interval.
  const double grown = outcome == PassOutcome::fleet_full
                           ? static_cast<double>(policy_.max.count())
                           : static_cast<double>(policy_.initial.count()) * std::pow(policy_.multiplier, streak_ - 1);
  const double capped = std::min(grown, static_cast<double>(policy_.max.count()));
  const double jittered = capped * (1.0 + policy_.jitter * (2.0 * random01 - 1.0));
  return milliseconds(static_cast<std::int64_t>(std::clamp(jittered, 0.0, static_cast<double>(policy_.max.count()))));
}

std::chrono::milliseconds startup_jitter(std::chrono::milliseconds max, double random01) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(max.count()) * random01));
}

}  // namespace bbmd::bbm
