// The LISTEN connection that wakes workers (see change_listener.hpp).
#include "bbm/run/change_listener.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "bbm/store/sql.hpp"
#include "log/log.hpp"

namespace bbmd::bbm {

namespace {

const log::Logger& logger() {
  static const log::Logger l(log::kWorkerComponent);
  return l;
}

constexpr std::chrono::milliseconds kReconnectInitial{100};

}  // namespace

ChangeListener::ChangeListener(boost::asio::any_io_executor ex, db::ConnParams params, std::function<void()> wake,
                               std::chrono::milliseconds reconnect_max)
    : ex_(ex), params_(std::move(params)), wake_(std::move(wake)), reconnect_max_(reconnect_max), timer_(ex) {}

void ChangeListener::stop() {
  stopping_ = true;
  timer_.cancel();
  if (conn_) conn_->close();  // ends the socket wait of listen()
}

boost::asio::awaitable<void> ChangeListener::run() {
  auto delay = kReconnectInitial;
  while (!stopping_) {
    bool listened = false;
    try {
      conn_ = co_await db::Connection::connect(ex_, params_);
      // stop() may have come while this connected, when there was no connection to close.
      if (stopping_) break;
      co_await conn_->execute_script("bbm_listen", "LISTEN " + std::string(sql::kChangeChannel));
      listened = true;
      logger().info("listening for migration changes", {{"channel", sql::kChangeChannel}});
      co_await listen();
    } catch (const std::exception& e) {
      if (stopping_) break;
      // Polling carries on meanwhile, so this is a warning: edits show within backoff.max.
      logger().warn("change listener lost its connection; workers poll until it is back",
                    {{log::kError, e.what()}, {"retry_in_s", delay.count() / 1000.0}});
    }
    conn_.reset();
    if (stopping_) break;
    if (listened) delay = kReconnectInitial;
    timer_.expires_after(delay);
    co_await timer_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    delay = std::min(delay * 2, reconnect_max_);
  }
}

boost::asio::awaitable<void> ChangeListener::listen() {
  wake_();  // whatever changed while nothing listened
  for (;;) {
    const auto received = co_await conn_->notifications();
    logger().debug("migration change notified", {{"notifications", received.size()}, {"bbm_id", received.front().payload}});
    wake_();
  }
}

}  // namespace bbmd::bbm
