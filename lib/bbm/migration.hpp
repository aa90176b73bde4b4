#pragma once
// In-memory forms of a migration row, its validated target, and a leased job.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bbm/status.hpp"

namespace bbmd::db {
class Result;
}

namespace bbmd::bbm {

enum class BatchingStrategy { id_keyset, null_keyset };

// A batched_background_migrations row as read; every field is untrusted until validated.
struct Migration {
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

  // Columns a SELECT must return for from_row(); keep in step with from_row().
  static constexpr const char* kColumns =
      "id, name, status, min_value, max_value, batch_size, sub_batch_size, job_signature_name, table_name, "
      "column_name, batching_strategy, job_arguments::text AS job_arguments, total_tuple_count, hold_code, "
      "min_batch_size, max_batch_size, sub_batch_pause_ms";
  static Migration from_row(const db::Result& r, int row);
};

// Where a migration's batches run, after catalog validation: every identifier already quoted.
struct Target {
  std::uint32_t table_oid = 0;
  std::string table_sql;   // "schema"."table"
  std::string column_sql;  // the migration's column, quoted
  std::string key_sql;     // the batching key column, quoted (column itself for id keyset, the PK for null keyset)
  BatchingStrategy strategy = BatchingStrategy::id_keyset;
  nlohmann::json job_arguments = nlohmann::json::object();
  // The batch statement the work function prepared: $1 = min key, $2 = max key, then work_params.
  std::string work_sql;
  std::vector<std::string> work_params;
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
