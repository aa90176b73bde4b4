// The pending-migrations gauge behind `serve` (see pending_monitor.hpp).
#include "schema/pending_monitor.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "db/pool.hpp"
#include "log/log.hpp"
#include "metrics/metrics.hpp"
#include "schema/migration_set.hpp"
#include "schema/records.hpp"
#include "schema/migrate_status.hpp"

namespace bbmd::schema {

PendingMonitor::PendingMonitor(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool,
                               metrics::Metrics& metrics, std::filesystem::path pre_dir,
                               std::filesystem::path post_dir)
    : pool_(std::move(pool)),
      metrics_(metrics),
      pre_dir_(std::move(pre_dir)),
      post_dir_(std::move(post_dir)),
      timer_(ex) {}

void PendingMonitor::stop() {
  stopping_ = true;
  timer_.cancel();
}

boost::asio::awaitable<void> PendingMonitor::run() {
  while (!stopping_) {
    co_await check();
    if (stopping_) break;
    timer_.expires_after(kPeriod);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }
}

boost::asio::awaitable<void> PendingMonitor::check() {
  try {
    // Read each time: a mounted migrations volume can change without a restart.
    const auto migrations = load_migration_set(pre_dir_, post_dir_);
    auto conn = co_await pool_->acquire();
    const auto pending = pending_counts(migrations, co_await read_records(*conn));
    metrics_.schema_migrations_pending(metric_type(Kind::pre), pending.pre);
    metrics_.schema_migrations_pending(metric_type(Kind::post), pending.post);
  } catch (const std::exception& e) {
    log::Logger("bbmd.migrate").warn("pending migration check failed", {{log::kError, e.what()}});
  }
}

}  // namespace bbmd::schema
