#pragma once
// Operator edits at once: one connection of its own LISTENs for the migrations table's change
// notifications (a new row, a migration made active) and wakes the idle workers. Only a hint: workers
// still poll every backoff.max, so a notification lost while this reconnects costs one poll.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "db/connection.hpp"

namespace bbmd::bbm {

class ChangeListener {
 public:
  // `wake` runs on the loop for every batch of notifications, and once after each (re)connect,
  // since changes made while nothing listened were not announced.
  ChangeListener(boost::asio::any_io_executor ex, db::ConnParams params, std::function<void()> wake,
                 std::chrono::milliseconds reconnect_max);

  // Listens until stop(), reconnecting with capped exponential backoff when the session ends.
  boost::asio::awaitable<void> run();
  void stop();

 private:
  boost::asio::awaitable<void> listen();

  boost::asio::any_io_executor ex_;
  db::ConnParams params_;
  std::function<void()> wake_;
  std::chrono::milliseconds reconnect_max_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<db::Connection> conn_;
  bool stopping_ = false;
};

}  // namespace bbmd::bbm
