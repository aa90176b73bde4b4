// Shrinking sub-batches and splitting jobs after statement timeouts (PgStore::shrink_or_split,
// see store.hpp).
#include "bbm/store/pg_store.hpp"
#include "bbm/store/sql.hpp"
#include "db/transaction.hpp"

namespace bbmd::bbm {

namespace {

const std::string kShrink = sql::render("UPDATE {jobs} SET sub_batch_size = $2 WHERE id = $1");

// The lower half stays in the job; both halves get fresh attempts and keep the shrunk sub-batch.
// Batching by limit a job has no range to split: its batch size halves instead, with fresh
// attempts; at one row it can no longer halve and its attempts run out.
const std::string kHalveBatch = sql::render(
    "UPDATE {jobs} SET batch_size = $2, attempts = 0, updated_at = now() WHERE id = $1 AND status = {j.failed}");

const std::string kKeepLowerHalf = sql::render(
    "UPDATE {jobs} SET max_value = $2, attempts = 0, updated_at = now() WHERE id = $1 AND status = {j.failed}");
const std::string kInsertUpperHalf = sql::render(
    "INSERT INTO {jobs} (batched_background_migration_id, min_value, max_value, status, attempts, "
    "failure_error_code, last_error, batch_size, sub_batch_size, table_oid) "
    "SELECT batched_background_migration_id, $2, $3, {j.failed}, 0, {code.job_timeout}, "
    "'split from job ' || id || ' after a statement timeout', batch_size, sub_batch_size, table_oid "
    "FROM {jobs} WHERE id = $1");

}  // namespace

boost::asio::awaitable<std::string> PgStore::shrink_or_split(const Bbm& m, const Target& target, const Job& job,
                                                            int max_attempts) {
  const std::int64_t sub_batch = job.sub_batch_size > 0 ? job.sub_batch_size : m.sub_batch_size;
  if (sub_batch > 1 && job.attempts < max_attempts) {
    const std::int64_t half = sub_batch / 2;
    co_await conn_.query("bbm_job_shrink_sub_batch", kShrink, job.id, half);
    co_return "sub-batch shrunk to " + std::to_string(half) + " keys";
  }
  if (target.strategy == BatchingStrategy::null_keyset_limit) {
    if (job.batch_size <= 1) co_return "";
    const std::int64_t half = job.batch_size / 2;
    co_await conn_.query("bbm_job_halve_batch", kHalveBatch, job.id, half);
    co_return "batch size halved to " + std::to_string(half) + " rows";
  }
  if (job.max_value <= job.min_value) co_return "";
  const std::int64_t mid = job.min_value + (job.max_value - job.min_value) / 2;
  co_await db::in_transaction(conn_, [&]() -> boost::asio::awaitable<void> {
    co_await conn_.query("bbm_job_split_lower", kKeepLowerHalf, job.id, mid);
    co_await conn_.query("bbm_job_split_upper", kInsertUpperHalf, job.id, mid + 1, job.max_value);
  });
  co_return "split into [" + std::to_string(job.min_value) + ", " + std::to_string(mid) + "] and [" +
      std::to_string(mid + 1) + ", " + std::to_string(job.max_value) + "]";
}

}  // namespace bbmd::bbm
