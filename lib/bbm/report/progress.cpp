// Progress figures from the store's sums (see progress.hpp).
#include "bbm/report/progress.hpp"

#include <algorithm>
#include <stdexcept>

#include "bbm/model/bbm.hpp"
#include "bbm/model/status_codes.hpp"

namespace bbmd::bbm {

Progress progress_from(const ProgressFigures& f) {
  Progress p;
  static_cast<ProgressFigures&>(p) = f;

  const bool finished = f.status == static_cast<int>(MigrationStatus::finished);
  const auto batch = std::max<std::int64_t>(1, f.batch_size);
  const auto estimated_jobs = f.total_tuple_count ? (*f.total_tuple_count + batch - 1) / batch : 0;
  p.total_jobs = std::max(f.all_jobs, estimated_jobs);
  if (f.recent_window_s > 0) p.rows_per_second = static_cast<double>(f.recent_rows) / f.recent_window_s;

  // Batching by limit has no key range to measure: the rows filled against the NULL rows there
  // were. Otherwise the keys done against the range's keys, up to the largest key the table held
  // when the migration started (the registry's rows end at the largest bigint). In double: a
  // row's bounds may be anything, also wider than a bigint can count (code 6).
  const bool by_limit = parse_strategy(f.batching_strategy) == BatchingStrategy::null_keyset && f.min_value == f.max_value;
  double total = 0, done = 0, rate = 0;
  if (by_limit) {
    total = static_cast<double>(f.total_tuple_count.value_or(0));
    done = static_cast<double>(f.rows_affected);
    rate = p.rows_per_second;
  } else {
    const auto top = f.key_ceiling ? std::min(f.max_value, *f.key_ceiling) : f.max_value;
    total = static_cast<double>(top) - static_cast<double>(f.min_value) + 1;
    done = static_cast<double>(f.done_keys);
    if (f.recent_window_s > 0) rate = static_cast<double>(f.recent_keys) / f.recent_window_s;
  }
  const double cap = by_limit ? 99.9 : 100.0;  // by limit, done only when nothing is left NULL
  p.percent = finished ? 100.0 : (total > 0 ? std::min(cap, 100.0 * done / total) : 0.0);
  if (rate > 0 && !finished) p.eta_seconds = std::max(0.0, total - done) / rate;
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
