#pragma once
// Periodically turns every migration's progress into gauges (progress, state, holds, oldest
// pending work). One query per period for the whole table.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

namespace bbmd::db {
class Pool;
}
namespace bbmd::metrics {
class Metrics;
}

namespace bbmd::bbm {

class ProgressCollector {
 public:
  // 15 s: Prometheus' usual scrape interval, so each scrape sees fresh figures.
  static constexpr std::chrono::seconds kPeriod{15};

  ProgressCollector(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool, metrics::Metrics& metrics);
  boost::asio::awaitable<void> run();  // until stop()
  void stop();

 private:
  boost::asio::awaitable<void> collect();
  std::shared_ptr<db::Pool> pool_;
  metrics::Metrics& metrics_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
};

}  // namespace bbmd::bbm
