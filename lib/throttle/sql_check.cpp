// Indicator: the operator's SQL check (throttle.query); true in the first cell means stop.
#include <string>
#include <utility>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"

namespace bbmd::throttle {
namespace {

// Longest piece of the operator's SQL quoted in the detail text.
constexpr std::size_t kQuotedSqlMax = 80;

std::string shortened(const std::string& sql) {
  return sql.size() <= kQuotedSqlMax ? sql : sql.substr(0, kQuotedSqlMax) + "...";
}

// One round trip: a two-statement script runs as one implicit transaction, so the local
// statement_timeout set by the first statement bounds the second and ends with it. That is why
// Throttle::check must be called outside a transaction (before the batch's BEGIN). No rows or
// NULL mean go; anything but a boolean is an error.
class SqlCheck final : public Indicator {
 public:
  SqlCheck(std::string sql, milliseconds timeout)
      : sql_(std::move(sql)),
        script_("SELECT set_config('statement_timeout', '" + std::to_string(timeout.count()) + "', true);\n" + sql_) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kSqlCheck; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    const auto r = co_await conn.execute_script("throttle_sql_check", script_);
    if (r.empty() || r.columns() == 0 || r.is_null(0, 0) || !r.get_bool(0, 0)) co_return std::nullopt;
    co_return Stop{std::string(name()), "throttle.query returned true (stops while true): " + shortened(sql_)};
  }

 private:
  std::string sql_;
  std::string script_;
};

}  // namespace

std::unique_ptr<Indicator> make_sql_check(std::string sql, milliseconds timeout) {
  return std::make_unique<SqlCheck>(std::move(sql), timeout);
}

}  // namespace bbmd::throttle
