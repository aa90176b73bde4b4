// Id keyset and null keyset range ends over the migration's key (see keyset.hpp).
#include "bbm/store/keyset.hpp"

#include "bbm/store/sql.hpp"

namespace bbmd::bbm {

namespace {

// One job at a time by limit: two at once would compete for the same NULL rows. A failed one is
// retried (its attempts counted) rather than followed by a new one: otherwise a job that always
// fails would be replaced for ever.
const std::string kNoLeasedJob = sql::render(
    "NOT EXISTS (SELECT 1 FROM {jobs} WHERE batched_background_migration_id = $1 "
    "AND status IN ({j.active}, {j.failed}))");

}  // namespace

std::string null_remains_sql(const Target& target) {
  return "SELECT EXISTS (SELECT 1 FROM " + target.table_sql + " WHERE " + target.column_sql + " IS NULL)";
}

std::string range_end_sql(const Target& target, std::string_view from, std::string_view to, std::string_view limit) {
  if (target.strategy == BatchingStrategy::null_keyset_limit) {
    return "SELECT CASE WHEN " + kNoLeasedJob + " AND (" + null_remains_sql(target) + ") THEN " + std::string(from) +
           " END";
  }
  std::string filter = target.key_sql + " BETWEEN " + std::string(from) + " AND " + std::string(to);
  if (target.strategy == BatchingStrategy::null_keyset) filter += " AND " + target.column_sql + " IS NULL";
  return "SELECT max(k) FROM (SELECT " + target.key_sql + " AS k FROM " + target.table_sql + " WHERE " + filter +
         " ORDER BY " + target.key_sql + " LIMIT " + std::string(limit) + ") AS batch";
}

}  // namespace bbmd::bbm
