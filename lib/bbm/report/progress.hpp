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

// The store's figures for a migration, and what they mean.
struct Progress : ProgressFigures {
  double percent = 0;                 // of the key range done (100 once finished)
  std::int64_t total_jobs = 0;        // issued so far, or the estimate from total_tuple_count if larger
  double rows_per_second = 0;         // over the last 5 minutes
  std::optional<double> eta_seconds;  // from the key rate over the last 5 minutes
};

// The figures read by the store, turned into percent, job totals, rate and ETA (pure).
[[nodiscard]] Progress progress_from(const ProgressFigures& f);

boost::asio::awaitable<std::vector<Progress>> progress_all(db::Connection& conn);
// Throws std::runtime_error when no migration has this id.
boost::asio::awaitable<Progress> progress_of(db::Connection& conn, std::int64_t id);

}  // namespace bbmd::bbm
