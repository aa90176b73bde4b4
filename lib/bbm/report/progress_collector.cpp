// Progress gauges, refreshed periodically (see progress_collector.hpp).
#include "bbm/report/progress_collector.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bbm/report/progress.hpp"
#include "bbm/model/status_codes.hpp"
#include "db/pool.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"

namespace bbmd::bbm {

ProgressCollector::ProgressCollector(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool,
                                     metrics::Metrics& metrics)
    : pool_(std::move(pool)), metrics_(metrics), timer_(ex) {}

void ProgressCollector::stop() {
  stopping_ = true;
  timer_.cancel();
}

boost::asio::awaitable<void> ProgressCollector::run() {
  while (!stopping_) {
    co_await collect();
    if (stopping_) break;
    timer_.expires_after(kPeriod);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

boost::asio::awaitable<void> ProgressCollector::collect() {
  try {
    auto conn = co_await pool_->acquire();
    double oldest = 0;
    for (const auto& p : co_await progress_all(*conn)) {
      const metrics::MigrationLabels labels{p.id, p.name};
      metrics_.progress(labels, p.percent);
      if (const auto s = migration_status_from(p.status)) metrics_.migration_state(labels, to_string(*s));
      if (!p.hold_reason) metrics_.held(labels, "", false);
      oldest = std::max(oldest, p.oldest_active_s);
    }
    metrics_.oldest_pending_age(oldest);
  } catch (const std::exception& e) {
    log::Logger(log::kWorkerComponent).warn("progress collection failed", {{log::kError, e.what()}});
  }
}

}  // namespace bbmd::bbm
