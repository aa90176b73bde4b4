#pragma once
// For `serve`: periodically counts the schema migrations this build knows but the database has
// not applied, per kind, into registry_database_migrations_pending{migration_type}, so a release
// dashboard shows post-deployment migrations waiting to run.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <memory>

namespace bbmd::db {
class Pool;
}
namespace bbmd::metrics {
class Metrics;
}

namespace bbmd::schema {

class PendingMonitor {
 public:
  // Migrations change only with a deploy; once a minute is plenty and costs two small reads.
  static constexpr std::chrono::seconds kPeriod{60};

  PendingMonitor(boost::asio::any_io_executor ex, std::shared_ptr<db::Pool> pool, metrics::Metrics& metrics,
                 std::filesystem::path pre_dir, std::filesystem::path post_dir);
  boost::asio::awaitable<void> run();  // until stop()
  void stop();

 private:
  boost::asio::awaitable<void> check();
  std::shared_ptr<db::Pool> pool_;
  metrics::Metrics& metrics_;
  std::filesystem::path pre_dir_, post_dir_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
};

}  // namespace bbmd::schema
