#pragma once
// Validates a migration row against the PostgreSQL catalog and resolves it into a quoted Target.
// Names are looked up as bound values; only names found in the catalog are ever quoted into SQL.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "bbm/model/bbm.hpp"
#include "bbm/check/qualified_name.hpp"
#include "bbm/model/verdict.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct ColumnInfo {
  std::int16_t attnum = 0;
  std::string type;  // format_type()
  bool integer = false;
};

boost::asio::awaitable<std::optional<std::uint32_t>> find_table(db::Connection& conn, const QualifiedName& table);
boost::asio::awaitable<std::optional<ColumnInfo>> find_column(db::Connection& conn, std::uint32_t table_oid,
                                                              const std::string& column);
boost::asio::awaitable<std::optional<std::uint32_t>> find_sequence(db::Connection& conn, const QualifiedName& seq);

// Checks table, column, batching strategy, bounds, sizes and the index the batching needs.
// On success fills `target` (minus job arguments, which the work function checks).
boost::asio::awaitable<Verdict> resolve_target(db::Connection& conn, const Bbm& m, Target& target);

}  // namespace bbmd::bbm
