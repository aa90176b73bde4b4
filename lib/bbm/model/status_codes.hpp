#pragma once
// Status numbers and failure codes, fixed by SPEC.md §1 (registry-compatible) plus bbmd's own codes.
// This is the one place they are defined; README's "Failure codes" table mirrors it.
#include <cstdint>
#include <optional>
#include <string_view>

namespace bbmd::bbm {

enum class MigrationStatus : std::int16_t { paused = 0, active = 1, finished = 2, failed = 3, running = 4 };
enum class JobStatus : std::int16_t { active = 1, finished = 2, failed = 3 };

enum class FailureCode : std::int16_t {
  unknown = 0,
  invalid_bbm_table = 1,
  invalid_bbm_column = 2,
  invalid_job_signature = 3,
  max_job_retry = 4,
  invalid_batching_strategy = 5,
  // bbmd's additions
  invalid_bounds = 6,         // min_value > max_value, or max_value - min_value + 1 beyond bigint
  invalid_job_arguments = 7,  // job_arguments of the wrong shape or naming missing objects
  job_timeout = 8,            // a job hit statement_timeout (job-level code)
  invalid_batch_size = 9,     // batch_size <= 0 or sub_batch_size < 0
  lease_expired = 10,         // a job's worker vanished mid-batch on its last allowed attempt (job-level)
  work_function_error = 11,   // the work function raised an error (job-level)
  server_out_of_resources = 12,  // the server lacked disk space, memory or connections: SQLSTATE class 53 (job-level)
};

inline constexpr MigrationStatus kAllMigrationStatuses[] = {MigrationStatus::paused, MigrationStatus::active,
                                                         MigrationStatus::finished, MigrationStatus::failed,
                                                         MigrationStatus::running};
inline constexpr JobStatus kAllJobStatuses[] = {JobStatus::active, JobStatus::finished, JobStatus::failed};
inline constexpr FailureCode kAllFailureCodes[] = {
    FailureCode::unknown,           FailureCode::invalid_bbm_table,     FailureCode::invalid_bbm_column,
    FailureCode::invalid_job_signature, FailureCode::max_job_retry,     FailureCode::invalid_batching_strategy,
    FailureCode::invalid_bounds,    FailureCode::invalid_job_arguments, FailureCode::job_timeout,
    FailureCode::invalid_batch_size, FailureCode::lease_expired,        FailureCode::work_function_error,
    FailureCode::server_out_of_resources,
};

[[nodiscard]] std::string_view to_string(MigrationStatus s) noexcept;
[[nodiscard]] std::string_view to_string(JobStatus s) noexcept;
[[nodiscard]] std::string_view to_string(FailureCode c) noexcept;
[[nodiscard]] std::optional<MigrationStatus> migration_status_from(std::int64_t n) noexcept;

// Why a migration is held (not failed): it may become runnable without anyone editing its row.
inline constexpr std::string_view kHoldUnknownWorkFunction = "unknown_work_function";
inline constexpr std::string_view kHoldMissingIndex = "missing_index";
inline constexpr std::string_view kHoldInvalidWorkFunction = "invalid_work_function";
inline constexpr std::string_view kHoldInsufficientPrivilege = "insufficient_privilege";
inline constexpr std::string_view kHoldThrottled = "throttled";

}  // namespace bbmd::bbm
