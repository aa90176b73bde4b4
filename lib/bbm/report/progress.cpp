// Progress figures from the store's sums (see progress.hpp).
#include "bbm/report/progress.hpp"

#include <algorithm>
#include <stdexcept>

#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

Progress progress_from(const ProgressFigures& f) {
  Progress p;
  static_cast<ProgressFigures&>(p) = f;

  const bool finished = f.status == static_cast<int>(MigrationStatus::finished);
  // In double: a row's bounds may be anything, also wider than a bigint can count (code 6).
  const double keys = static_cast<double>(f.max_value) - static_cast<double>(f.min_value) + 1;
  const double done = static_cast<double>(f.done_keys);
  p.percent = finished ? 100.0 : (keys > 0 ? std::min(100.0, 100.0 * done / keys) : 0.0);
  const auto batch = std::max<std::int64_t>(1, f.batch_size);
  const auto estimated_jobs = f.total_tuple_count ? (*f.total_tuple_count + batch - 1) / batch : 0;
  p.total_jobs = std::max(f.all_jobs, estimated_jobs);

  if (f.recent_window_s > 0) {
    p.rows_per_second = static_cast<double>(f.recent_rows) / f.recent_window_s;
    const double key_rate = static_cast<double>(f.recent_keys) / f.recent_window_s;
    if (key_rate > 0 && !finished) p.eta_seconds = std::max(0.0, keys - done) / key_rate;
  }
  return p;
}

boost::asio::awaitable<std::vector<Progress>> progress_all(db::Connection& conn) {
  std::vector<Progress> out;
  for (const auto& f : co_await progress_figures(conn)) out.push_back(progress_from(f));
  co_return out;
}

boost::asio::awaitable<Progress> progress_of(db::Connection& conn, std::int64_t id) {
  const auto figures = co_await progress_figures(conn, id);
  if (figures.empty()) throw std::runtime_error("no batched background migration with id " + std::to_string(id));
  co_return progress_from(figures.front());
}

}  // namespace bbmd::bbm
