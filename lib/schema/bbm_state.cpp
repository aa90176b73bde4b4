// BBM lookups for schema migrations (see bbm_state.hpp).
#include "schema/bbm_state.hpp"

#include <cstdio>
#include <stdexcept>

#include "bbm/progress.hpp"
#include "bbm/status.hpp"
#include "db/connection.hpp"

namespace bbmd::schema {

bool BbmState::finished() const noexcept { return status == static_cast<int>(bbm::MigrationStatus::finished); }

std::string BbmState::describe() const {
  const auto s = bbm::migration_status_from(status);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", percent);
  return name + " (status " + (s ? std::string(bbm::to_string(*s)) : std::to_string(status)) + ", " + pct + " done)";
}

namespace {

boost::asio::awaitable<bool> bbm_table_exists(db::Connection& conn) {
  auto r = co_await conn.query("schema_bbm_table_exists",
                               "SELECT to_regclass('batched_background_migrations') IS NOT NULL");
  co_return r.get_bool(0, 0);
}

}  // namespace

boost::asio::awaitable<std::set<std::string>> bbm_names(db::Connection& conn) {
  std::set<std::string> out;
  const bool table_exists = co_await bbm_table_exists(conn);
  if (!table_exists) co_return out;
  auto r = co_await conn.query("schema_bbm_names", "SELECT name FROM batched_background_migrations");
  for (int i = 0; i < r.rows(); ++i) out.insert(r.get_string(i, 0));
  co_return out;
}

boost::asio::awaitable<std::optional<BbmState>> bbm_state(db::Connection& conn, const std::string& name) {
  const bool table_exists = co_await bbm_table_exists(conn);
  if (!table_exists) co_return std::nullopt;
  auto r = co_await conn.query("schema_bbm_id", "SELECT id FROM batched_background_migrations WHERE name = $1", name);
  if (r.empty()) co_return std::nullopt;
  const auto p = co_await bbm::progress_of(conn, r.get_int(0, 0));
  co_return BbmState{name, p.status, p.percent};
}

boost::asio::awaitable<std::vector<BbmState>> unfinished_bbms(db::Connection& conn,
                                                              const std::vector<std::string>& names,
                                                              const std::string& wanted_by) {
  std::vector<BbmState> out;
  for (const auto& name : names) {
    auto state = co_await bbm_state(conn, name);
    if (!state) {
      throw std::runtime_error(wanted_by + " needs batched background migration '" + name +
                               "', but no BBM has that name (queue it in an earlier migration, or fix the name)");
    }
    if (!state->finished()) out.push_back(std::move(*state));
  }
  co_return out;
}

}  // namespace bbmd::schema
