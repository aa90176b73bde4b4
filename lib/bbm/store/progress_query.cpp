// The progress query (see progress_query.hpp).
#include "bbm/store/progress_query.hpp"

#include "bbm/store/sql.hpp"
#include "db/connection.hpp"

namespace bbmd::bbm {

namespace {

// The rate window: long enough to smooth batch-to-batch noise, short enough to follow throttling.
const std::string kProgress = sql::render(R"(
SELECT m.id, m.name, m.status, m.table_name, m.job_signature_name, m.min_value, m.max_value, m.batch_size,
       m.batching_strategy, m.key_ceiling, m.total_tuple_count, m.failure_error_code, m.last_error,
       CASE WHEN m.hold_code IS NOT NULL THEN m.hold_reason END AS hold_reason,
       to_char(m.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS started_at,
       to_char(m.finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS finished_at,
       coalesce(j.finished_jobs, 0) AS finished_jobs, coalesce(j.failed_jobs, 0) AS failed_jobs,
       coalesce(j.active_jobs, 0) AS active_jobs, coalesce(j.all_jobs, 0) AS all_jobs,
       coalesce(j.done_keys, 0) AS done_keys, coalesce(j.rows_affected, 0) AS rows_affected,
       coalesce(j.recent_rows, 0) AS recent_rows, coalesce(j.recent_keys, 0) AS recent_keys,
       coalesce(j.recent_window_s, 0) AS recent_window_s, coalesce(j.oldest_active_s, 0) AS oldest_active_s
FROM {migrations} m
LEFT JOIN LATERAL (
  SELECT count(*) FILTER (WHERE status = {j.finished}) AS finished_jobs,
         count(*) FILTER (WHERE status = {j.failed}) AS failed_jobs,
         count(*) FILTER (WHERE status = {j.active}) AS active_jobs,
         count(*) AS all_jobs,
         sum(max_value - min_value + 1) FILTER (WHERE status = {j.finished}) AS done_keys,
         sum(rows_affected) FILTER (WHERE status = {j.finished}) AS rows_affected,
         sum(rows_affected) FILTER (WHERE status = {j.finished} AND finished_at > now() - interval '5 minutes')
           AS recent_rows,
         sum(max_value - min_value + 1) FILTER (WHERE status = {j.finished} AND finished_at > now() - interval '5 minutes')
           AS recent_keys,
         extract(epoch FROM now() - min(started_at)
           FILTER (WHERE status = {j.finished} AND finished_at > now() - interval '5 minutes'))::float8 AS recent_window_s,
         extract(epoch FROM now() - min(started_at) FILTER (WHERE status = {j.active}))::float8 AS oldest_active_s
  FROM {jobs} WHERE batched_background_migration_id = m.id) j ON true
WHERE ($1::bigint IS NULL OR m.id = $1)
ORDER BY m.id)");

ProgressFigures figures_from(const db::Result& r, int i) {
  ProgressFigures f;
  f.id = r.get_int(i, "id");
  f.name = r.get_string(i, "name");
  f.status = static_cast<int>(r.get_int(i, "status"));
  f.table_name = r.get_string(i, "table_name");
  f.job_signature_name = r.get_string(i, "job_signature_name");
  f.min_value = r.get_int(i, "min_value");
  f.max_value = r.get_int(i, "max_value");
  f.batch_size = r.get_int(i, "batch_size");
  f.batching_strategy = r.opt_string(i, "batching_strategy");
  f.key_ceiling = r.opt_int(i, "key_ceiling");
  f.total_tuple_count = r.opt_int(i, "total_tuple_count");
  if (auto code = r.opt_int(i, "failure_error_code")) f.failure_error_code = static_cast<int>(*code);
  f.last_error = r.opt_string(i, "last_error");
  f.hold_reason = r.opt_string(i, "hold_reason");
  f.started_at = r.opt_string(i, "started_at");
  f.finished_at = r.opt_string(i, "finished_at");
  f.finished_jobs = r.get_int(i, "finished_jobs");
  f.failed_jobs = r.get_int(i, "failed_jobs");
  f.active_jobs = r.get_int(i, "active_jobs");
  f.all_jobs = r.get_int(i, "all_jobs");
  f.done_keys = r.get_int(i, "done_keys");
  f.rows_affected = r.get_int(i, "rows_affected");
  f.recent_rows = r.get_int(i, "recent_rows");
  f.recent_keys = r.get_int(i, "recent_keys");
  f.recent_window_s = r.get_double(i, "recent_window_s");
  f.oldest_active_s = r.get_double(i, "oldest_active_s");
  return f;
}

}  // namespace

boost::asio::awaitable<std::vector<ProgressFigures>> progress_figures(db::Connection& conn,
                                                                      std::optional<std::int64_t> id) {
  auto r = co_await conn.query("bbm_progress", kProgress, id);
  std::vector<ProgressFigures> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(figures_from(r, i));
  co_return out;
}

}  // namespace bbmd::bbm
