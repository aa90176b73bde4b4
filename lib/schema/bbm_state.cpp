// BBM lookups for schema migrations (see bbm_state.hpp).
#include "schema/bbm_state.hpp"

#include <cstdio>
#include <stdexcept>

#include "bbm/report/progress.hpp"
#include "bbm/model/status_codes.hpp"
#include "bbm/store/operator_verbs.hpp"
#include "db/connection.hpp"

namespace bbmd::schema {

bool BbmState::finished() const noexcept { return status == static_cast<int>(bbm::MigrationStatus::finished); }

std::string BbmState::describe() const {
  const auto s = bbm::migration_status_from(status);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", percent);
  return name + " (status " + (s ? std::string(bbm::to_string(*s)) : std::to_string(status)) + ", " + pct + " done)";
}

boost::asio::awaitable<std::optional<BbmState>> bbm_state(db::Connection& conn, const std::string& name) {
  const bool table_exists = co_await bbm::migrations_table_exists(conn);
  if (!table_exists) co_return std::nullopt;
  const auto id = co_await bbm::id_named(conn, name);
  if (!id) co_return std::nullopt;
  const auto p = co_await bbm::progress_of(conn, *id);
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
