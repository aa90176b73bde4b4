// Indicator: the age of the oldest running client transaction other than our own (pg_stat_activity).
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/units.hpp"

namespace bbmd::throttle {
namespace {

// A long transaction holds back the xmin horizon: every row a batch rewrites stays as a dead
// tuple vacuum cannot remove until it ends, so bloat grows with each batch. Only client
// backends count (autovacuum and walsenders are not the application), and clock_timestamp()
// rather than now() because now() is frozen at our own transaction's start.
constexpr const char* kSql = R"sql(
SELECT pid, coalesce(datname, '') AS datname, coalesce(state, '') AS state,
       extract(epoch FROM clock_timestamp() - xact_start)::float8 AS age_s
FROM pg_stat_activity
WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
ORDER BY xact_start
LIMIT 1)sql";

class OldestTransaction final : public Indicator {
 public:
  explicit OldestTransaction(milliseconds max_age) : max_s_(std::chrono::duration<double>(max_age).count()) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kOldestTransaction; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    const auto r = co_await conn.query("throttle_oldest_transaction", kSql);
    if (r.empty()) co_return std::nullopt;
    const double age = r.get_double(0, "age_s");
    if (age <= max_s_) co_return std::nullopt;
    co_return Stop{std::string(name()), "transaction of pid " + std::to_string(r.get_int(0, "pid")) + " (database " +
                                            r.get_string(0, "datname") + ", " + r.get_string(0, "state") +
                                            ") open for " + seconds_text(age) + " (limit " + seconds_text(max_s_) +
                                            ")"};
  }

 private:
  double max_s_;
};

}  // namespace

std::unique_ptr<Indicator> make_oldest_transaction(milliseconds max_age) {
  return std::make_unique<OldestTransaction>(max_age);
}

}  // namespace bbmd::throttle
