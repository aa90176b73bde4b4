#pragma once
// Reading BBM and job rows into their in-memory forms; the column lists statements select.
#include "bbm/model/bbm.hpp"

namespace bbmd::db {
class Result;
}

namespace bbmd::bbm {

// What a SELECT on the migrations table must return for bbm_from_row().
inline constexpr const char* kBbmColumns =
    "id, name, status, min_value, max_value, batch_size, sub_batch_size, job_signature_name, table_name, "
    "column_name, batching_strategy, job_arguments::text AS job_arguments, total_tuple_count, hold_code, "
    "min_batch_size, max_batch_size, sub_batch_pause_ms, failure_error_code, last_error";
[[nodiscard]] Bbm bbm_from_row(const db::Result& r, int row);

// What an INSERT or UPDATE of a job returns for job_from_row().
inline constexpr const char* kJobReturning =
    " RETURNING id, min_value, max_value, attempts, lease_token, batch_size, coalesce(sub_batch_size, 0) AS sub_batch_size";
[[nodiscard]] Job job_from_row(const db::Result& r, int row);

}  // namespace bbmd::bbm
