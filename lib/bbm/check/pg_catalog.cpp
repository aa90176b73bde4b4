// pg_catalog lookups behind migration validation: tables, columns, sequences and batching indexes.
#include "bbm/check/pg_catalog.hpp"

#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

constexpr const char* kFindTable =
    "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
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
// A valid btree index whose first key is the batching column: range queries stay index scans.
constexpr const char* kLeadingIndex =
    "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    "WHERE i.indrelid = $1 AND i.indkey[0] = $2 AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree' "
    "LIMIT 1";
// The partial index null keyset batching needs: ON t (key) WHERE column IS NULL.
constexpr const char* kPartialIndex =
    "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    "WHERE i.indrelid = $1 AND i.indkey[0] = $2 AND i.indisvalid AND am.amname = 'btree' "
    "AND pg_catalog.pg_get_expr(i.indpred, i.indrelid) = format('(%s IS NULL)', quote_ident($3)) LIMIT 1";

constexpr std::string_view kNullKeyset = "null_keyset";

// PostgreSQL cuts identifiers, bound `name` parameters included, to 63 bytes: a longer name in a
// row would silently match the table or column its first 63 bytes spell.
bool longer_than_identifier(std::string_view name) { return name.size() > 63; }

std::string quoted_table(db::Connection& conn, const QualifiedName& q) {
  return conn.quote_identifier(q.schema) + "." + conn.quote_identifier(q.name);
}

Verdict check_numbers(const Bbm& m) {
  if (m.min_value > m.max_value) {
    return Verdict::failure(FailureCode::invalid_bounds, "min_value " + std::to_string(m.min_value) +
                                                             " is greater than max_value " +
                                                             std::to_string(m.max_value));
  }
  // Every key count (max - min + 1) is computed in bigint, in bbmd and in its SQL: bounds wider
  // than that cannot be batched or measured.
  std::int64_t span = 0;
  if (__builtin_sub_overflow(m.max_value, m.min_value, &span) || span == INT64_MAX) {
    return Verdict::failure(FailureCode::invalid_bounds, "min_value " + std::to_string(m.min_value) +
                                                             " to max_value " + std::to_string(m.max_value) +
                                                             " spans more keys than a bigint counts");
  }
  if (m.batch_size <= 0) {
    return Verdict::failure(FailureCode::invalid_batch_size,
                            "batch_size must be positive, got " + std::to_string(m.batch_size));
  }
  if (m.sub_batch_size < 0) {
    return Verdict::failure(FailureCode::invalid_batch_size,
                            "sub_batch_size must not be negative, got " + std::to_string(m.sub_batch_size));
  }
  return Verdict::ok();
}

std::optional<BatchingStrategy> parse_strategy(const std::optional<std::string>& s) {
  if (!s || s->empty()) return BatchingStrategy::id_keyset;
  if (*s == kNullKeyset) return BatchingStrategy::null_keyset;
  return std::nullopt;
}

}  // namespace

boost::asio::awaitable<std::optional<std::uint32_t>> find_table(db::Connection& conn, const QualifiedName& table) {
  if (longer_than_identifier(table.schema) || longer_than_identifier(table.name)) co_return std::nullopt;
  auto r = co_await conn.query("bbm_catalog_table", kFindTable, table.schema, table.name);
  if (r.empty()) co_return std::nullopt;
  co_return static_cast<std::uint32_t>(r.get_int(0, 0));
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

boost::asio::awaitable<Verdict> resolve_target(db::Connection& conn, const Bbm& m, Target& target) {
  if (auto v = check_numbers(m); !v.runnable()) co_return v;
  const auto strategy = parse_strategy(m.batching_strategy);
  if (!strategy) {
    co_return Verdict::failure(FailureCode::invalid_batching_strategy,
                               "unknown batching_strategy '" + *m.batching_strategy + "' (expected NULL or 'null_keyset')");
  }
  const auto table = split_qualified(m.table_name);
  std::optional<std::uint32_t> oid;
  if (table) oid = co_await find_table(conn, *table);
  if (!oid) co_return Verdict::failure(FailureCode::invalid_bbm_table, "table '" + m.table_name + "' does not exist");
  const auto column = co_await find_column(conn, *oid, m.column_name);
  if (!column) {
    co_return Verdict::failure(FailureCode::invalid_bbm_column,
                               "column '" + m.column_name + "' does not exist in table '" + m.table_name + "'");
  }
  target.table_oid = *oid;
  target.table_sql = quoted_table(conn, *table);
  target.column_sql = conn.quote_identifier(m.column_name);
  target.strategy = *strategy;

  if (*strategy == BatchingStrategy::id_keyset) {
    if (!column->integer) {
      co_return Verdict::failure(FailureCode::invalid_bbm_column, "id keyset batching needs an integer column; '" +
                                                                      m.column_name + "' is " + column->type);
    }
    target.key_sql = target.column_sql;
    auto idx = co_await conn.query("bbm_catalog_index", kLeadingIndex, *oid, column->attnum);
    if (idx.empty()) {
      co_return Verdict::held(kHoldMissingIndex, "no valid btree index leads with column '" + m.column_name +
                                                     "' on " + m.table_name + "; create one to start batching");
    }
    co_return Verdict::ok();
  }

  auto pk = co_await conn.query("bbm_catalog_primary_key", kPrimaryKey, *oid);
  if (pk.empty()) {
    co_return Verdict::failure(FailureCode::invalid_batching_strategy,
                               "null_keyset batching needs a single-column integer primary key on " + m.table_name);
  }
  const auto key_name = pk.get_string(0, 0);
  const auto key = co_await find_column(conn, *oid, key_name);
  target.key_sql = conn.quote_identifier(key_name);
  auto idx = co_await conn.query("bbm_catalog_partial_index", kPartialIndex, *oid, key->attnum, m.column_name);
  if (idx.empty()) {
    co_return Verdict::held(kHoldMissingIndex, "null_keyset batching needs the partial index: CREATE INDEX CONCURRENTLY ON " +
                                                   target.table_sql + " (" + target.key_sql + ") WHERE " +
                                                   target.column_sql + " IS NULL");
  }
  co_return Verdict::ok();
}

}  // namespace bbmd::bbm
