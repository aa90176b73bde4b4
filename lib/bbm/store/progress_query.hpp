#pragma once
// The one query behind every progress figure: each migration's row with its jobs summed up
// (report/progress.hpp turns the sums into percent, rate and ETA).
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct ProgressFigures {
  std::int64_t id = 0;
  std::string name;
  int status = 0;
  std::string table_name;
  std::string job_signature_name;
  std::int64_t min_value = 0;
  std::int64_t max_value = 0;
  std::int64_t batch_size = 0;
  std::optional<std::string> batching_strategy;
  std::optional<std::int64_t> key_ceiling;  // the largest key in range when the first job ran
  std::optional<std::int64_t> total_tuple_count;
  std::optional<int> failure_error_code;
  std::optional<std::string> last_error;
  std::optional<std::string> hold_reason;  // while held
  std::optional<std::string> started_at;   // ISO 8601, UTC
  std::optional<std::string> finished_at;
  std::int64_t finished_jobs = 0;
  std::int64_t failed_jobs = 0;
  std::int64_t active_jobs = 0;
  std::int64_t all_jobs = 0;
  std::int64_t done_keys = 0;      // keys covered by finished jobs
  std::int64_t rows_affected = 0;  // by finished jobs
  std::int64_t recent_rows = 0;    // by jobs finished in the rate window
  std::int64_t recent_keys = 0;
  double recent_window_s = 0;      // from the first of those jobs' start to now
  double oldest_active_s = 0;      // age of the oldest job in flight, 0 if none
};

// Every migration (or only `id`), by id.
boost::asio::awaitable<std::vector<ProgressFigures>> progress_figures(db::Connection& conn,
                                                                      std::optional<std::int64_t> id = std::nullopt);

}  // namespace bbmd::bbm
