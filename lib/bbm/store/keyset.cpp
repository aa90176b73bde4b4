// Id keyset and null keyset range ends over the migration's key (see keyset.hpp).
#include "bbm/store/keyset.hpp"

namespace bbmd::bbm {

std::string range_end_sql(const Target& target, std::string_view from, std::string_view to, std::string_view limit) {
  std::string filter = target.key_sql + " BETWEEN " + std::string(from) + " AND " + std::string(to);
  if (target.strategy == BatchingStrategy::null_keyset) filter += " AND " + target.column_sql + " IS NULL";
  return "SELECT max(k) FROM (SELECT " + target.key_sql + " AS k FROM " + target.table_sql + " WHERE " + filter +
         " ORDER BY " + target.key_sql + " LIMIT " + std::string(limit) + ") AS batch";
}

}  // namespace bbmd::bbm
