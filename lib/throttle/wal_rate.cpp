// Indicator: WAL generation rate in bytes/s, from pg_stat_wal.wal_bytes deltas between checks.
#include <algorithm>
#include <string>
#include <utility>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/units.hpp"

namespace bbmd::throttle {
namespace {

constexpr const char* kSql = "SELECT wal_bytes::float8 AS wal_bytes FROM pg_stat_wal";

// Backends publish their WAL counters to pg_stat_wal at most once a second (PGSTAT_MIN_INTERVAL
// in pgstat.c), so a rate over a shorter window is mostly flush jitter. Two intervals keep one
// late flush from more than halving or doubling the figure.
constexpr milliseconds kMinWindow{2000};

class WalRate final : public Indicator {
 public:
  WalRate(double max_bytes_per_second, milliseconds window, Now now)
      : max_(max_bytes_per_second), window_(std::max(window, kMinWindow)), now_(std::move(now)) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kWalRate; }

  // The first check only records a sample. Until the window has passed the previous verdict
  // stands, so frequent checks cost no round trip and the rate is always taken over >= window.
  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    if (has_sample_ && now_() - sampled_at_ < window_) co_return verdict_;
    const auto r = co_await conn.query("throttle_wal_rate", kSql);
    const double bytes = r.get_double(0, "wal_bytes");
    const auto at = now_();
    const bool had_sample = has_sample_;
    const double prev = bytes_;
    const double seconds = std::chrono::duration<double>(at - sampled_at_).count();
    bytes_ = bytes;
    sampled_at_ = at;
    has_sample_ = true;
    // A counter that went down was reset (pg_stat_reset_shared('wal')): start over.
    if (!had_sample || bytes < prev || seconds <= 0) {
      verdict_.reset();
      co_return verdict_;
    }
    const double rate = (bytes - prev) / seconds;
    if (rate > max_) {
      verdict_ = Stop{std::string(name()), "WAL written at " + bytes_text(rate) + "/s over " + seconds_text(seconds) +
                                               " (limit " + bytes_text(max_) + "/s)"};
    } else {
      verdict_.reset();
    }
    co_return verdict_;
  }

 private:
  double max_;
  milliseconds window_;
  Now now_;
  bool has_sample_ = false;
  double bytes_ = 0;
  Clock::time_point sampled_at_{};
  std::optional<Stop> verdict_;
};

}  // namespace

std::unique_ptr<Indicator> make_wal_rate(double max_bytes_per_second, milliseconds window, Now now) {
  return std::make_unique<WalRate>(max_bytes_per_second, window, std::move(now));
}

}  // namespace bbmd::throttle
