// The stats-access decorator: an indicator that reads other sessions' statistics refuses to
// answer "go" when the role cannot see them.
#include <stdexcept>
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"

namespace bbmd::throttle {
namespace {

// PostgreSQL does not refuse these reads: it returns the rows of other roles' sessions with
// their details NULL, so an indicator would quietly see no vacuum, no old transaction and no
// lag. Asking first turns that into an error the throttle logs and counts under the
// indicator's name. pg_has_role(..., 'USAGE') follows inherited grants (pg_monitor) and is
// true for superusers.
constexpr const char* kSql =
    "SELECT pg_has_role('pg_read_all_stats', 'USAGE') AS can_read, current_user::text AS role";

class NeedsStatsAccess final : public Indicator {
 public:
  NeedsStatsAccess(std::unique_ptr<Indicator> inner, std::string view) : inner_(std::move(inner)), view_(std::move(view)) {}

  [[nodiscard]] std::string_view name() const override { return inner_->name(); }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context& ctx) override {
    const auto r = co_await conn.query("throttle_stats_access", kSql);
    if (!r.get_bool(0, "can_read")) {
      throw std::runtime_error("role \"" + r.get_string(0, "role") + "\" cannot see other sessions in " + view_ +
                               " (PostgreSQL hides them without pg_read_all_stats): GRANT pg_monitor TO " +
                               conn.quote_identifier(r.get_string(0, "role")) + ", or disable this indicator");
    }
    co_return co_await inner_->check(conn, ctx);
  }

 private:
  std::unique_ptr<Indicator> inner_;
  std::string view_;
};

}  // namespace

std::unique_ptr<Indicator> needs_stats_access(std::unique_ptr<Indicator> inner, std::string view) {
  return std::make_unique<NeedsStatsAccess>(std::move(inner), std::move(view));
}

}  // namespace bbmd::throttle
