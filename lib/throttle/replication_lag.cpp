// Indicator: replay lag of each streaming standby, as time and as bytes (pg_stat_replication).
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/units.hpp"

namespace bbmd::throttle {
namespace {

// replay_lag NULL means caught up (PostgreSQL clears it once the standby has replayed all it was
// sent). replay_lag is only re-measured when replay advances, so a standby whose replay is
// stuck or paused keeps its last small value: the byte distance is what catches that case.
constexpr const char* kSql = R"sql(
SELECT coalesce(application_name, '') AS application_name,
       extract(epoch FROM replay_lag)::float8 AS lag_s,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS lag_bytes
FROM pg_stat_replication
ORDER BY lag_bytes DESC NULLS LAST)sql";

class ReplicationLag final : public Indicator {
 public:
  ReplicationLag(milliseconds max_lag, double max_bytes)
      : max_lag_s_(std::chrono::duration<double>(max_lag).count()), max_bytes_(max_bytes) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kReplicationLag; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    const auto r = co_await conn.query("throttle_replication_lag", kSql);
    for (int row = 0; row < r.rows(); ++row) {
      const auto standby = r.get_string(row, "application_name");
      const auto bytes = r.opt_double(row, "lag_bytes");
      if (bytes && *bytes > max_bytes_) {
        co_return Stop{std::string(name()), "standby \"" + standby + "\" has " + bytes_text(*bytes) +
                                                " of WAL not replayed (limit " + bytes_text(max_bytes_) + ")"};
      }
      const auto lag = r.opt_double(row, "lag_s");
      if (lag && *lag > max_lag_s_) {
        co_return Stop{std::string(name()), "standby \"" + standby + "\" replay lags " + seconds_text(*lag) +
                                                " (limit " + seconds_text(max_lag_s_) + ")"};
      }
    }
    co_return std::nullopt;
  }

 private:
  double max_lag_s_;
  double max_bytes_;
};

}  // namespace

std::unique_ptr<Indicator> make_replication_lag(milliseconds max_lag, double max_bytes) {
  return std::make_unique<ReplicationLag>(max_lag, max_bytes);
}

}  // namespace bbmd::throttle
