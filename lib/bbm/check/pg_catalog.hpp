#pragma once
// Catalog lookups for validation: tables (with their partition root), columns and sequences.
// Names are looked up as bound values; only names found in the catalog are ever quoted into SQL.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "bbm/model/bbm.hpp"
#include "bbm/check/qualified_name.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct ColumnInfo {
  std::int16_t attnum = 0;
  std::string type;  // format_type()
  bool integer = false;
};

struct TableInfo {
  std::uint32_t oid = 0;
  std::uint32_t root_oid = 0;  // the top of its partition tree; its own oid when not a partition
  bool partitioned = false;
};

boost::asio::awaitable<std::optional<TableInfo>> find_table(db::Connection& conn, const QualifiedName& table);
boost::asio::awaitable<std::optional<ColumnInfo>> find_column(db::Connection& conn, std::uint32_t table_oid,
                                                              const std::string& column);
boost::asio::awaitable<std::optional<std::uint32_t>> find_sequence(db::Connection& conn, const QualifiedName& seq);

}  // namespace bbmd::bbm
