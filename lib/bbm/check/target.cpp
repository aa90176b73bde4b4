// Target resolution: bounds, sizes, strategy, table, column and batching index (see target.hpp).
#include "bbm/check/target.hpp"

#include "bbm/check/pg_catalog.hpp"
#include "bbm/check/qualified_name.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// A valid btree index whose first key is the batching column: range queries stay index scans.
// On a partitioned table the index must be valid on the parent, which it is once every
// partition has one.
constexpr const char* kLeadingIndex =
    "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    "WHERE i.indrelid = $1 AND i.indkey[0] = $2 AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree' "
    "LIMIT 1";
// The partial index null keyset batching needs: WHERE column IS NULL, leading with the key
// ($2; 0: any key, for batching by limit).
constexpr const char* kPartialIndex =
    "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam "
    "WHERE i.indrelid = $1 AND ($2 = 0 OR i.indkey[0] = $2) AND i.indisvalid AND am.amname = 'btree' "
    "AND pg_catalog.pg_get_expr(i.indpred, i.indrelid) = format('(%s IS NULL)', quote_ident($3)) LIMIT 1";
// The leaf partitions of a partitioned table ($1) without a valid btree index leading with the
// column named $2, by name: what an operator has to fix when the parent's index is not valid.
constexpr const char* kPartitionsWithoutIndex =
    "SELECT string_agg(t.relid::regclass::text, ', ' ORDER BY t.relid::regclass::text) "
    "FROM pg_catalog.pg_partition_tree($1::oid::regclass) t WHERE t.isleaf AND NOT EXISTS ("
    "SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid "
    "JOIN pg_catalog.pg_am am ON am.oid = ic.relam JOIN pg_catalog.pg_attribute a "
    "ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "WHERE i.indrelid = t.relid AND a.attname = $2 AND i.indisvalid AND i.indpred IS NULL AND am.amname = 'btree')";
// The single-column integer primary key: null keyset batches walk it when the table has one.
constexpr const char* kPrimaryKey =
    "SELECT a.attname FROM pg_catalog.pg_index i "
    "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
    "WHERE i.indrelid = $1 AND i.indisprimary AND i.indnatts = 1 "
    "AND a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)";

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


boost::asio::awaitable<Verdict> resolve_id_keyset(db::Connection& conn, const Bbm& m, const TableInfo& table,
                                                  const ColumnInfo& column, Target& target) {
  if (!column.integer) {
    co_return Verdict::failure(FailureCode::invalid_bbm_column,
                               "id keyset batching needs an integer column; '" + m.column_name + "' is " + column.type);
  }
  target.key_sql = target.column_sql;
  auto idx = co_await conn.query("bbm_catalog_index", kLeadingIndex, table.oid, column.attnum);
  if (!idx.empty()) co_return Verdict::ok();
  std::string where;
  if (table.partitioned) {
    auto lacking = co_await conn.query("bbm_catalog_partition_indexes", kPartitionsWithoutIndex, table.oid,
                                       m.column_name);
    if (const auto names = lacking.opt_string(0, 0)) where = "; partitions without a valid one: " + *names;
  }
  co_return Verdict::held(kHoldMissingIndex, "no valid btree index leads with column '" + m.column_name + "' on " +
                                                 m.table_name + where + "; create one to start batching");
}

boost::asio::awaitable<Verdict> resolve_null_keyset(db::Connection& conn, const Bbm& m, const TableInfo& table,
                                                    Target& target) {
  auto pk = co_await conn.query("bbm_catalog_primary_key", kPrimaryKey, table.oid);
  std::int64_t key_attnum = 0;
  std::string key_for_index = target.column_sql;
  if (pk.empty()) {
    // The registry's way for a table without an integer key: no ranges, LIMIT batch_size rows.
    target.strategy = BatchingStrategy::null_keyset_limit;
  } else {
    const auto key_name = pk.get_string(0, 0);
    const auto key = co_await find_column(conn, table.oid, key_name);
    target.key_sql = conn.quote_identifier(key_name);
    key_attnum = key->attnum;
    key_for_index = target.key_sql;
  }
  auto idx = co_await conn.query("bbm_catalog_partial_index", kPartialIndex, table.oid, key_attnum, m.column_name);
  if (!idx.empty()) co_return Verdict::ok();
  co_return Verdict::held(kHoldMissingIndex, "null keyset batching needs the partial index: CREATE INDEX CONCURRENTLY ON " +
                                                 target.table_sql + " (" + key_for_index + ") WHERE " +
                                                 target.column_sql + " IS NULL");
}

}  // namespace

boost::asio::awaitable<Verdict> resolve_target(db::Connection& conn, const Bbm& m, Target& target) {
  if (auto v = check_numbers(m); !v.runnable()) co_return v;
  const auto strategy = parse_strategy(m.batching_strategy);
  if (!strategy) {
    co_return Verdict::failure(FailureCode::invalid_batching_strategy,
                               "unknown batching_strategy '" + *m.batching_strategy +
                                   "' (expected NULL, 'null_keyset' or 'NullKeySetBatchingStrategy')");
  }
  const auto name = split_qualified(m.table_name);
  std::optional<TableInfo> table;
  if (name) table = co_await find_table(conn, *name);
  if (!table) co_return Verdict::failure(FailureCode::invalid_bbm_table, "table '" + m.table_name + "' does not exist");
  const auto column = co_await find_column(conn, table->oid, m.column_name);
  if (!column) {
    co_return Verdict::failure(FailureCode::invalid_bbm_column,
                               "column '" + m.column_name + "' does not exist in table '" + m.table_name + "'");
  }
  target.table_oid = table->oid;
  target.lease_table_oid = table->root_oid;
  target.table_sql = quoted_table(conn, *name);
  target.column_sql = conn.quote_identifier(m.column_name);
  target.strategy = *strategy;
  if (*strategy == BatchingStrategy::id_keyset) co_return co_await resolve_id_keyset(conn, m, *table, *column, target);
  co_return co_await resolve_null_keyset(conn, m, *table, target);
}

}  // namespace bbmd::bbm
