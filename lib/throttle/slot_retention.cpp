// Indicator: WAL held back by the replication slot that retains the most (pg_replication_slots).
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/units.hpp"

namespace bbmd::throttle {
namespace {

// Inactive slots count too: an abandoned slot is the usual way a disk fills with WAL.
constexpr const char* kSql = R"sql(
SELECT slot_name, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::float8 AS retained
FROM pg_replication_slots
WHERE restart_lsn IS NOT NULL
ORDER BY retained DESC
LIMIT 1)sql";

class SlotRetention final : public Indicator {
 public:
  explicit SlotRetention(double max_bytes) : max_bytes_(max_bytes) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kSlotRetention; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    const auto r = co_await conn.query("throttle_slot_retention", kSql);
    if (r.empty()) co_return std::nullopt;
    const double retained = r.get_double(0, "retained");
    if (retained <= max_bytes_) co_return std::nullopt;
    co_return Stop{std::string(name()), "replication slot \"" + r.get_string(0, "slot_name") + "\" retains " +
                                            bytes_text(retained) + " of WAL (limit " + bytes_text(max_bytes_) + ")"};
  }

 private:
  double max_bytes_;
};

}  // namespace

std::unique_ptr<Indicator> make_slot_retention(double max_bytes) { return std::make_unique<SlotRetention>(max_bytes); }

}  // namespace bbmd::throttle
