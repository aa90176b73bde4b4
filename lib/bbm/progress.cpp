// One query computes every migration's progress from its jobs (see progress.hpp).
#include "bbm/progress.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// The rate window: long enough to smooth batch-to-batch noise, short enough to follow throttling.
constexpr const char* kProgress = R"(
SELECT m.id, m.name, m.status, m.table_name, m.job_signature_name, m.min_value, m.max_value, m.batch_size,
       m.total_tuple_count, m.failure_error_code, m.last_error,
       CASE WHEN m.hold_code IS NOT NULL THEN m.hold_reason END AS hold_reason,
       to_char(m.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
       to_char(m.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
       coalesce(j.finished_jobs, 0) AS finished_jobs, coalesce(j.failed_jobs, 0) AS failed_jobs,
       coalesce(j.active_jobs, 0) AS active_jobs, coalesce(j.all_jobs, 0) AS all_jobs,
       coalesce(j.done_keys, 0) AS done_keys, coalesce(j.rows_affected, 0) AS rows_affected,
       coalesce(j.recent_rows, 0) AS recent_rows, coalesce(j.recent_keys, 0) AS recent_keys,
       coalesce(j.recent_window_s, 0) AS recent_window_s, coalesce(j.oldest_active_s, 0) AS oldest_active_s
FROM batched_background_migrations m
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE status = 2) AS finished_jobs,
         count(*) FILTER (WHERE status = 3) AS failed_jobs,
         count(*) FILTER (WHERE status = 1) AS active_jobs,
         count(*) AS all_jobs,
         sum(max_value - min_value + 1) FILTER (WHERE status = 2) AS done_keys,
         sum(rows_affected) FILTER (WHERE status = 2) AS rows_affected,
         sum(rows_affected) FILTER (WHERE status = 2 AND finished_at > now() - interval '5 minutes') AS recent_rows,
         sum(max_value - min_value + 1) FILTER (WHERE status = 2 AND finished_at > now() - interval '5 minutes')
           AS recent_keys,
         extract(epoch FROM now() - min(started_at) FILTER (WHERE status = 2 AND finished_at > now() - interval '5 minutes'))::float8
           AS recent_window_s,
         extract(epoch FROM now() - min(started_at) FILTER (WHERE status = 1))::float8 AS oldest_active_s
  FROM background_migration_jobs WHERE batched_background_migration_id = m.id) j ON true
WHERE ($1::bigint IS NULL OR m.id = $1)
ORDER BY m.id)";

Progress from_row(const db::Result& r, int i) {
  Progress p;
  p.id = r.get_int(i, "id");
  p.name = r.get_string(i, "name");
  p.status = static_cast<int>(r.get_int(i, "status"));
  p.table_name = r.get_string(i, "table_name");
  p.job_signature_name = r.get_string(i, "job_signature_name");
  p.finished_jobs = r.get_int(i, "finished_jobs");
  p.failed_jobs = r.get_int(i, "failed_jobs");
  p.active_jobs = r.get_int(i, "active_jobs");
  p.rows_affected = r.get_int(i, "rows_affected");
  p.total_tuple_count = r.opt_int(i, "total_tuple_count");
  if (auto code = r.opt_int(i, "failure_error_code")) p.failure_error_code = static_cast<int>(*code);
  p.hold_reason = r.opt_string(i, "hold_reason");
  p.last_error = r.opt_string(i, "last_error");
  p.started_at = r.opt_string(i, "started_at");
  p.finished_at = r.opt_string(i, "finished_at");
  p.oldest_active_job_age_s = r.get_double(i, "oldest_active_s");

  // In double: a row's bounds may be anything, also wider than a bigint can count (code 6).
  const double keys =
      static_cast<double>(r.get_int(i, "max_value")) - static_cast<double>(r.get_int(i, "min_value")) + 1;
  const double done = static_cast<double>(r.get_int(i, "done_keys"));
  p.percent = p.status == 2 ? 100.0 : (keys > 0 ? std::min(100.0, 100.0 * done / keys) : 0.0);
  const auto batch = std::max<std::int64_t>(1, r.get_int(i, "batch_size"));
  const auto estimated_jobs = p.total_tuple_count ? (*p.total_tuple_count + batch - 1) / batch : 0;
  p.total_jobs = std::max(r.get_int(i, "all_jobs"), estimated_jobs);

  const double window = r.get_double(i, "recent_window_s");
  if (window > 0) {
    p.rows_per_second = static_cast<double>(r.get_int(i, "recent_rows")) / window;
    const double key_rate = static_cast<double>(r.get_int(i, "recent_keys")) / window;
    if (key_rate > 0 && p.status != 2) p.eta_seconds = std::max(0.0, keys - done) / key_rate;
  }
  return p;
}

}  // namespace

boost::asio::awaitable<std::vector<Progress>> progress_all(db::Connection& conn) {
  auto r = co_await conn.query("bbm_progress", kProgress, std::nullopt);
  std::vector<Progress> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(from_row(r, i));
  co_return out;
}

boost::asio::awaitable<Progress> progress_of(db::Connection& conn, std::int64_t id) {
  auto r = co_await conn.query("bbm_progress", kProgress, id);
  if (r.empty()) throw std::runtime_error("no batched background migration with id " + std::to_string(id));
  co_return from_row(r, 0);
}

}  // namespace bbmd::bbm
