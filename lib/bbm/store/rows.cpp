// Row readers (see rows.hpp).
#include "bbm/store/rows.hpp"

#include "db/result.hpp"

namespace bbmd::bbm {

Bbm bbm_from_row(const db::Result& r, int row) {
  Bbm m;
  m.id = r.get_int(row, "id");
  m.name = r.get_string(row, "name");
  m.status = static_cast<std::int16_t>(r.get_int(row, "status"));
  m.min_value = r.get_int(row, "min_value");
  m.max_value = r.get_int(row, "max_value");
  m.batch_size = r.get_int(row, "batch_size");
  m.sub_batch_size = r.get_int(row, "sub_batch_size");
  m.job_signature_name = r.get_string(row, "job_signature_name");
  m.table_name = r.get_string(row, "table_name");
  m.column_name = r.get_string(row, "column_name");
  m.batching_strategy = r.opt_string(row, "batching_strategy");
  m.job_arguments_text = r.get_string(row, "job_arguments");
  m.total_tuple_count = r.opt_int(row, "total_tuple_count");
  m.hold_code = r.opt_string(row, "hold_code");
  m.min_batch_size = r.opt_int(row, "min_batch_size");
  m.max_batch_size = r.opt_int(row, "max_batch_size");
  m.sub_batch_pause_ms = r.get_int(row, "sub_batch_pause_ms");
  if (const auto code = r.opt_int(row, "failure_error_code")) m.failure_error_code = static_cast<std::int16_t>(*code);
  m.last_error = r.opt_string(row, "last_error");
  return m;
}

Job job_from_row(const db::Result& r, int row) {
  Job job;
  job.id = r.get_int(row, "id");
  job.min_value = r.get_int(row, "min_value");
  job.max_value = r.get_int(row, "max_value");
  job.attempts = r.get_int(row, "attempts");
  job.lease_token = r.get_int(row, "lease_token");
  job.batch_size = r.opt_int(row, "batch_size").value_or(0);
  job.sub_batch_size = r.get_int(row, "sub_batch_size");
  return job;
}

}  // namespace bbmd::bbm
