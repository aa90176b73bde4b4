// Shrinking sub-batches and splitting jobs after statement timeouts (see job_split.hpp).
#include "bbm/job_split.hpp"

#include "db/connection.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

constexpr const char* kShrink = "UPDATE background_migration_jobs SET sub_batch_size = $2 WHERE id = $1";

// The lower half stays in the job; both halves get fresh attempts and keep the shrunk sub-batch.
constexpr const char* kKeepLowerHalf =
    "UPDATE background_migration_jobs SET max_value = $2, attempts = 0, updated_at = now() "
    "WHERE id = $1 AND status = 3";
constexpr const char* kInsertUpperHalf =
    "INSERT INTO background_migration_jobs (batched_background_migration_id, min_value, max_value, status, attempts, "
    "failure_error_code, last_error, batch_size, sub_batch_size, table_oid) "
    "SELECT batched_background_migration_id, $2, $3, 3, 0, 8, 'split from job ' || id || ' after a statement timeout', "
    "batch_size, sub_batch_size, table_oid FROM background_migration_jobs WHERE id = $1";

}  // namespace

boost::asio::awaitable<std::string> shrink_or_split(db::Connection& conn, const Migration& m, const Job& job,
                                                    int max_attempts) {
  const std::int64_t sub_batch = job.sub_batch_size > 0 ? job.sub_batch_size : m.sub_batch_size;
  if (sub_batch > 1 && job.attempts < max_attempts) {
    const std::int64_t half = sub_batch / 2;
    co_await conn.query("bbm_job_shrink_sub_batch", kShrink, job.id, half);
    co_return "sub-batch shrunk to " + std::to_string(half) + " keys";
  }
  if (job.max_value <= job.min_value) co_return "";
  const std::int64_t mid = job.min_value + (job.max_value - job.min_value) / 2;
  co_await db::in_transaction(conn, [&]() -> boost::asio::awaitable<void> {
    co_await conn.query("bbm_job_split_lower", kKeepLowerHalf, job.id, mid);
    co_await conn.query("bbm_job_split_upper", kInsertUpperHalf, job.id, mid + 1, job.max_value);
  });
  co_return "split into [" + std::to_string(job.min_value) + ", " + std::to_string(mid) + "] and [" +
      std::to_string(mid + 1) + ", " + std::to_string(job.max_value) + "]";
}

}  // namespace bbmd::bbm
