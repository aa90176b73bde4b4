#pragma once
// The WAL-rate ceiling as a token bucket on WAL bytes. Each observation of the server's WAL
// position charges the bytes written since the previous one at the ceiling's rate, starting no
// earlier than that previous observation (so idle time earns no credit beyond the interval the
// bytes were written in). The bucket is empty until the charged time has passed: a big batch is
// followed by a proportionally long pause, so the rate over a run converges to the ceiling
// instead of overshooting by whatever was written between on/off checks.
#include <chrono>
#include <optional>

namespace bbmd::throttle {

class WalRatePacer {
 public:
  using Clock = std::chrono::steady_clock;

  // A ceiling below 1 byte/s counts as 1 byte/s.
  explicit WalRatePacer(double max_bytes_per_second);

  // Records the WAL position `bytes` seen at `at`. A position that went back (another server
  // behind the same address) or the first one only starts the count.
  void observe(double bytes, Clock::time_point at);
  // How long the next batch must wait at `now`; zero when it may go.
  [[nodiscard]] std::chrono::milliseconds pause_at(Clock::time_point now) const;
  // Bytes per second over the last interval between two observations, if there were two.
  [[nodiscard]] std::optional<double> last_rate() const { return last_rate_; }
  [[nodiscard]] double last_interval_seconds() const { return last_interval_s_; }

 private:
  double max_;
  std::optional<double> bytes_;
  Clock::time_point observed_at_{};
  Clock::time_point paid_until_{};  // when the bytes charged so far are allowed at the ceiling
  std::optional<double> last_rate_;
  double last_interval_s_ = 0;
};

}  // namespace bbmd::throttle
