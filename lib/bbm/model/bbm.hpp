#pragma once
// In-memory forms of a BBM row, its validated target, a key range and a leased job.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

// id_keyset: ranges of an integer key column. null_keyset: ranges of the table's single-column
// integer primary key, over rows whose column IS NULL. null_keyset_limit: a null keyset on a table
// without such a key (the registry's way): each job changes up to batch_size rows still NULL, and
// is done once none is left (changed rows leave the predicate, so none is changed twice).
enum class BatchingStrategy { id_keyset, null_keyset, null_keyset_limit };
// A row's batching_strategy: NULL, "" or the registry's "SerialKeySetBatchingStrategy" are the id
// keyset; "null_keyset" or the registry's "NullKeySetBatchingStrategy" the null keyset (by range
// or by limit, as the table allows). nullopt for anything else.
[[nodiscard]] inline std::optional<BatchingStrategy> parse_strategy(const std::optional<std::string>& text) {
  if (!text || text->empty() || *text == "SerialKeySetBatchingStrategy") return BatchingStrategy::id_keyset;
  if (*text == "null_keyset" || *text == "NullKeySetBatchingStrategy") return BatchingStrategy::null_keyset;
  return std::nullopt;
}

// id_keyset, or null_keyset for either way of batching a null keyset.
[[nodiscard]] constexpr BatchingStrategy strategy_family(BatchingStrategy s) noexcept {
  return s == BatchingStrategy::null_keyset_limit ? BatchingStrategy::null_keyset : s;
}

// A batched background migration's row as read; every field is untrusted until validated.
struct Bbm {
  std::int64_t id = 0;
  std::string name;
  std::int16_t status = 0;
  std::int64_t min_value = 1;
  std::int64_t max_value = 0;
  std::int64_t batch_size = 0;
  std::int64_t sub_batch_size = 0;
  std::optional<std::int64_t> min_batch_size;  // adaptive bounds; NULL: 1 and batch_size
  std::optional<std::int64_t> max_batch_size;
  std::int64_t sub_batch_pause_ms = 0;
  std::string job_signature_name;
  std::string table_name;
  std::string column_name;
  std::optional<std::string> batching_strategy;
  std::string job_arguments_text = "{}";
  std::optional<std::int64_t> total_tuple_count;
  std::optional<std::string> hold_code;
  std::optional<std::int16_t> failure_error_code;
  std::optional<std::string> last_error;
};

// Where a migration's batches run, after catalog validation: every identifier already quoted.
struct Target {
  std::uint32_t table_oid = 0;
  // The table whose lease cap the migration's jobs count against: a partition's partitioned root,
  // so that migrations on a parent and on its partitions never run into each other's row locks.
  std::uint32_t lease_table_oid = 0;
  std::string table_sql;   // "schema"."table"
  std::string column_sql;  // the migration's column, quoted
  // The batching key column, quoted (the column itself for id keyset, the primary key for null
  // keyset); empty for null_keyset_limit, which has none.
  std::string key_sql;
  BatchingStrategy strategy = BatchingStrategy::id_keyset;
  nlohmann::json job_arguments = nlohmann::json::object();
  // The batch statement the work function prepared: $1 = min key and $2 = max key (by limit: $1 =
  // the job's batch size), then work_params.
  std::string work_sql;
  std::vector<std::string> work_params;
};

// An inclusive range of batching keys.
struct KeyRange {
  std::int64_t min = 0;
  std::int64_t max = 0;
};

// A job this worker holds a lease on.
struct Job {
  std::int64_t id = 0;
  std::int64_t min_value = 0;
  std::int64_t max_value = 0;
  std::int64_t attempts = 0;
  std::int64_t lease_token = 0;
  std::int64_t batch_size = 0;
  std::int64_t sub_batch_size = 0;  // 0: the migration's; set when a timeout shrank it
  bool takeover = false;  // the lease was taken from a worker that vanished
};

}  // namespace bbmd::bbm
