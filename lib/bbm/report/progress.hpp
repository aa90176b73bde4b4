#pragma once
// Progress of migrations from their job rows: percent of the key range done, jobs, rate, ETA.
// Feeds `background-migrate status`, the admin API, the progress metrics and the foreground run.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbm/store/progress_query.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

struct Progress {
  std::int64_t id = 0;
  std::string name;
  int status = 0;
  std::string table_name;
  std::string job_signature_name;
  double percent = 0;
  std::int64_t finished_jobs = 0;
  std::int64_t failed_jobs = 0;
  std::int64_t active_jobs = 0;
  std::int64_t total_jobs = 0;  // issued so far, or the estimate from total_tuple_count if larger
  std::int64_t rows_affected = 0;
  std::optional<std::int64_t> total_tuple_count;
  double rows_per_second = 0;              // over the last 5 minutes
  std::optional<double> eta_seconds;       // from the key rate over the last 5 minutes
  std::optional<int> failure_error_code;
  std::optional<std::string> hold_reason;  // while held: cleared when the migration runs again
  std::optional<std::string> last_error;
  std::optional<std::string> started_at;
  std::optional<std::string> finished_at;
  double oldest_active_job_age_s = 0;  // 0 when no job is in flight
};

// The figures read by the store, turned into percent, job totals, rate and ETA (pure).
[[nodiscard]] Progress progress_from(const ProgressFigures& f);

boost::asio::awaitable<std::vector<Progress>> progress_all(db::Connection& conn);
// Throws std::runtime_error when no migration has this id.
boost::asio::awaitable<Progress> progress_of(db::Connection& conn, std::int64_t id);

}  // namespace bbmd::bbm
