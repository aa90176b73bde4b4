// WalRatePacer: the token-bucket arithmetic of the WAL-rate ceiling (see wal_rate_pacer.hpp).
#include "throttle/wal_rate_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace bbmd::throttle {

namespace {
constexpr double kMaxCostSeconds = 86400;
}  // namespace

WalRatePacer::WalRatePacer(double max_bytes_per_second) : max_(std::max(max_bytes_per_second, 1.0)) {}

void WalRatePacer::observe(double bytes, Clock::time_point at) {
  const auto previous = bytes_;
  const auto previous_at = observed_at_;
  bytes_ = bytes;
  observed_at_ = at;
  if (!previous || bytes < *previous || at < previous_at) {
    last_rate_.reset();
    paid_until_ = at;
    return;
  }
  const double written = bytes - *previous;
  last_interval_s_ = std::chrono::duration<double>(at - previous_at).count();
  last_rate_ = last_interval_s_ > 0 ? written / last_interval_s_ : 0.0;
  // Capped so that a ceiling of a few bytes per second cannot overflow the clock.
  const double seconds = std::min(written / max_, kMaxCostSeconds);
  const auto cost = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  paid_until_ = std::max(paid_until_, previous_at) + cost;
}

std::chrono::milliseconds WalRatePacer::pause_at(Clock::time_point now) const {
  if (!bytes_ || paid_until_ <= now) return std::chrono::milliseconds(0);
  // Rounded up: waking a millisecond early would find the bucket still empty.
  const double ms = std::chrono::duration<double, std::milli>(paid_until_ - now).count();
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(ms)));
}

}  // namespace bbmd::throttle
