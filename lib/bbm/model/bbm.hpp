#pragma once
// In-memory forms of a BBM row, its validated target, a key range and a leased job.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

enum class BatchingStrategy { id_keyset, null_keyset };

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
  std::string table_sql;   // "schema"."table"
  std::string column_sql;  // the migration's column, quoted
  std::string key_sql;     // the batching key column, quoted (column itself for id keyset, the PK for null keyset)
  BatchingStrategy strategy = BatchingStrategy::id_keyset;
  nlohmann::json job_arguments = nlohmann::json::object();
  // The batch statement the work function prepared: $1 = min key, $2 = max key, then work_params.
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
