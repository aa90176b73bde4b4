#pragma once
// A health indicator: one signal about the database (WAL, replication, vacuum, locks, operator
// checks) that can ask the worker to stop before its next batch. Each indicator is small, has
// its own config block, and answers at a bounded cost.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bbmd::db {
class Connection;
}

namespace bbmd::throttle {

// What the worker is about to touch; indicators that care about the target table use it.
struct Context {
  std::int64_t migration_id = 0;
  std::uint32_t table_oid = 0;
  std::string table_name;  // schema.table, for messages
  // Sessions that were waiting on locks held by this migration's previous batch, counted just
  // before it committed (once it commits they are no longer waiting, so only the batch can see them).
  std::int64_t waiters_on_last_batch = 0;
};

// A request to stop: `reason` is a stable label (metrics, hold code), `detail` says why in words.
struct Stop {
  std::string reason;  // e.g. "replication_lag"
  std::string detail;  // e.g. "standby walreceiver lags 12.4s (limit 5s)"
  // When the indicator knows when the signal clears (the WAL-rate pacing): hold exactly that
  // long instead of the doubling backoff. Zero: unknown.
  std::chrono::milliseconds pause{0};
};

class Indicator {
 public:
  virtual ~Indicator() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;  // the reason label it reports
  // nullopt: go ahead. Throws on failure; the caller logs, counts and ignores the indicator.
  virtual boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context& ctx) = 0;
};

}  // namespace bbmd::throttle
