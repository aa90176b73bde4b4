// Indicator: the WAL-rate ceiling, paced with a token bucket on the server's WAL position.
#include <string>
#include <utility>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/units.hpp"
#include "throttle/wal_rate_pacer.hpp"

namespace bbmd::throttle {
namespace {

// The insert position moves the moment a backend writes WAL; pg_stat_wal's counters are
// published at most once a second, which let a fast worker run a second or more past the
// ceiling before the check could see it. Readable by any role.
constexpr const char* kSql = "SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::float8 AS wal_bytes";

class WalRate final : public Indicator {
 public:
  WalRate(double max_bytes_per_second, Now now) : max_(max_bytes_per_second), pacer_(max_bytes_per_second), now_(std::move(now)) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kWalRate; }

  // While a pause is owed, answers from memory with the time left. Otherwise one cheap round
  // trip charges what was written since the last check (by anyone: the ceiling is cluster-wide),
  // so the batch just finished is paid for before the next one starts.
  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    if (const auto owed = pacer_.pause_at(now_()); owed.count() > 0) co_return stop(owed);
    const auto r = co_await conn.query("throttle_wal_rate", kSql);
    pacer_.observe(r.get_double(0, "wal_bytes"), now_());
    const auto pause = pacer_.pause_at(now_());
    if (pause.count() > 0) {
      detail_ = "WAL written at " + bytes_text(*pacer_.last_rate()) + "/s over " +
                seconds_text(pacer_.last_interval_seconds()) + " (limit " + bytes_text(max_) + "/s)";
      co_return stop(pause);
    }
    co_return std::nullopt;
  }

 private:
  [[nodiscard]] Stop stop(milliseconds pause) const {
    Stop s{std::string(name()), detail_ + ", pausing " + seconds_text(static_cast<double>(pause.count()) / 1000.0)};
    s.pause = pause;
    return s;
  }

  double max_;
  WalRatePacer pacer_;
  Now now_;
  std::string detail_;
};

}  // namespace

std::unique_ptr<Indicator> make_wal_rate(double max_bytes_per_second, Now now) {
  return std::make_unique<WalRate>(max_bytes_per_second, std::move(now));
}

}  // namespace bbmd::throttle
