// Names for status numbers and failure codes (logs, status output, metrics labels).
#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

std::string_view to_string(MigrationStatus s) noexcept {
  switch (s) {
    case MigrationStatus::paused: return "paused";
    case MigrationStatus::active: return "active";
    case MigrationStatus::finished: return "finished";
    case MigrationStatus::failed: return "failed";
    case MigrationStatus::running: return "running";
  }
  return "unknown";
}

std::string_view to_string(JobStatus s) noexcept {
  switch (s) {
    case JobStatus::active: return "active";
    case JobStatus::finished: return "finished";
    case JobStatus::failed: return "failed";
  }
  return "unknown";
}

std::string_view to_string(FailureCode c) noexcept {
  switch (c) {
    case FailureCode::unknown: return "unknown";
    case FailureCode::invalid_bbm_table: return "invalid_bbm_table";
    case FailureCode::invalid_bbm_column: return "invalid_bbm_column";
    case FailureCode::invalid_job_signature: return "invalid_job_signature";
    case FailureCode::max_job_retry: return "max_job_retry";
    case FailureCode::invalid_batching_strategy: return "invalid_batching_strategy";
    case FailureCode::invalid_bounds: return "invalid_bounds";
    case FailureCode::invalid_job_arguments: return "invalid_job_arguments";
    case FailureCode::job_timeout: return "job_timeout";
    case FailureCode::invalid_batch_size: return "invalid_batch_size";
    case FailureCode::lease_expired: return "lease_expired";
    case FailureCode::work_function_error: return "work_function_error";
    case FailureCode::server_out_of_resources: return "server_out_of_resources";
  }
  return "unknown";
}

std::optional<MigrationStatus> migration_status_from(std::int64_t n) noexcept {
  if (n < 0 || n > 4) return std::nullopt;
  return static_cast<MigrationStatus>(n);
}

}  // namespace bbmd::bbm
