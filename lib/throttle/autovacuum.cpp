// Indicator: a VACUUM running on the migration's target table (autovacuum, wraparound or manual).
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"

namespace bbmd::throttle {
namespace {

// The batch would compete with the vacuum for the same pages and, worse, a wraparound vacuum
// must never be cancelled, so the batch waits; bbmd never signals the vacuum. VACUUM FULL shows
// in pg_stat_progress_cluster instead, but it holds ACCESS EXCLUSIVE, so the batch's lock_timeout
// already keeps bbmd out of its way.
constexpr const char* kSql = R"sql(
SELECT v.pid, v.phase, coalesce(a.backend_type, '') AS backend_type, coalesce(a.query, '') AS query
FROM pg_stat_progress_vacuum v LEFT JOIN pg_stat_activity a ON a.pid = v.pid
WHERE v.relid = $1::oid
LIMIT 1)sql";

// How autovacuum names a wraparound run in pg_stat_activity.query (autovacuum.c).
constexpr std::string_view kWraparoundMark = "(to prevent wraparound)";
constexpr std::string_view kAutovacuumWorker = "autovacuum worker";

class Autovacuum final : public Indicator {
 public:
  [[nodiscard]] std::string_view name() const override { return reasons::kAutovacuum; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context& ctx) override {
    if (ctx.table_oid == 0) co_return std::nullopt;
    const auto r = co_await conn.query("throttle_autovacuum", kSql, static_cast<std::int64_t>(ctx.table_oid));
    if (r.empty()) co_return std::nullopt;
    const auto query = r.get_string(0, "query");
    std::string who = "VACUUM";
    if (r.get_string(0, "backend_type") == kAutovacuumWorker) {
      who = query.find(kWraparoundMark) != std::string::npos ? "autovacuum (to prevent wraparound)" : "autovacuum";
    }
    const auto table = ctx.table_name.empty() ? "oid " + std::to_string(ctx.table_oid) : ctx.table_name;
    co_return Stop{std::string(name()), who + " running on " + table + " (pid " +
                                            std::to_string(r.get_int(0, "pid")) + ", phase " +
                                            r.get_string(0, "phase") + "); waiting for it to finish (limit: none)"};
  }
};

}  // namespace

std::unique_ptr<Indicator> make_autovacuum() { return std::make_unique<Autovacuum>(); }

}  // namespace bbmd::throttle
