// pg_catalog lookups behind migration validation: tables, columns and sequences.
#include "bbm/check/pg_catalog.hpp"

#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// A table or a partitioned table; a partition's root is the top of its partition tree.
constexpr const char* kFindTable =
    "SELECT c.oid, coalesce(pg_catalog.pg_partition_root(c.oid)::oid, c.oid) AS root, c.relkind = 'p' AS partitioned "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')";
constexpr const char* kFindSequence =
    "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind = 'S'";
constexpr const char* kFindColumn =
    "SELECT a.attnum, format_type(a.atttypid, a.atttypmod) AS type, "
    "a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) AS integer "
    "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 "
    "AND NOT a.attisdropped";
// The single-column integer primary key: null keyset batches walk it.
constexpr const char* kPrimaryKey =
    "SELECT a.attname FROM pg_catalog.pg_index i "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "WHERE i.indrelid = $1 AND i.indisprimary AND i.indnatts = 1 "
    "AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)";
// PostgreSQL cuts identifiers, bound `name` parameters included, to 63 bytes: a longer name in a
// row would silently match the table or column its first 63 bytes spell.
bool longer_than_identifier(std::string_view name) { return name.size() > 63; }

}  // namespace

boost::asio::awaitable<std::optional<TableInfo>> find_table(db::Connection& conn, const QualifiedName& table) {
  if (longer_than_identifier(table.schema) || longer_than_identifier(table.name)) co_return std::nullopt;
  auto r = co_await conn.query("bbm_catalog_table", kFindTable, table.schema, table.name);
  if (r.empty()) co_return std::nullopt;
  co_return TableInfo{static_cast<std::uint32_t>(r.get_int(0, "oid")), static_cast<std::uint32_t>(r.get_int(0, "root")),
                      r.get_bool(0, "partitioned")};
}

boost::asio::awaitable<std::optional<std::uint32_t>> find_sequence(db::Connection& conn, const QualifiedName& seq) {
  if (longer_than_identifier(seq.schema) || longer_than_identifier(seq.name)) co_return std::nullopt;
  auto r = co_await conn.query("bbm_catalog_sequence", kFindSequence, seq.schema, seq.name);
  if (r.empty()) co_return std::nullopt;
  co_return static_cast<std::uint32_t>(r.get_int(0, 0));
}

boost::asio::awaitable<std::optional<ColumnInfo>> find_column(db::Connection& conn, std::uint32_t table_oid,
                                                              const std::string& column) {
  if (longer_than_identifier(column)) co_return std::nullopt;
  auto r = co_await conn.query("bbm_catalog_column", kFindColumn, table_oid, column);
  if (r.empty()) co_return std::nullopt;
  co_return ColumnInfo{static_cast<std::int16_t>(r.get_int(0, "attnum")), r.get_string(0, "type"),
                       r.get_bool(0, "integer")};
}

}  // namespace bbmd::bbm
