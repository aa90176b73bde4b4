// Reads a migration row into its struct.
#include "bbm/migration.hpp"

#include "db/result.hpp"

namespace bbmd::bbm {

Migration Migration::from_row(const db::Result& r, int row) {
  Migration m;
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
  return m;
}

}  // namespace bbmd::bbm
