// Id keyset and null keyset batching over the migration's key.
#include "bbm/batching.hpp"

#include <algorithm>

#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// The highest key already handed out; jobs are indexed on (migration, max_value).
constexpr const char* kCursor =
    "SELECT max(max_value) FROM background_migration_jobs WHERE batched_background_migration_id = $1";

}  // namespace

std::string range_end_sql(const Target& target, std::string_view from, std::string_view to, std::string_view limit) {
  std::string filter = target.key_sql + " BETWEEN " + std::string(from) + " AND " + std::string(to);
  if (target.strategy == BatchingStrategy::null_keyset) filter += " AND " + target.column_sql + " IS NULL";
  return "SELECT max(k) FROM (SELECT " + target.key_sql + " AS k FROM " + target.table_sql + " WHERE " + filter +
         " ORDER BY " + target.key_sql + " LIMIT " + std::string(limit) + ") AS batch";
}

boost::asio::awaitable<std::optional<KeyRange>> next_range(db::Connection& conn, const Migration& m,
                                                           const Target& target, std::int64_t batch_size) {
  auto cursor = co_await conn.query("bbm_batch_cursor", kCursor, m.id);
  const auto issued = cursor.opt_int(0, 0);
  if (issued && *issued >= m.max_value) co_return std::nullopt;
  const std::int64_t start = issued ? std::max(*issued + 1, m.min_value) : m.min_value;
  auto end = co_await conn.query("bbm_batch_range", range_end_sql(target), start, m.max_value, batch_size);
  const auto last = end.opt_int(0, 0);
  if (!last) co_return std::nullopt;
  co_return KeyRange{start, *last};
}

}  // namespace bbmd::bbm
