#pragma once
// A plain coroutine sleep on the current executor, for paces nothing needs to interrupt (sub-batch
// pauses inside a batch, the foreground run's poll while other workers hold the jobs).
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

namespace bbmd::db {

inline boost::asio::awaitable<void> sleep_for(std::chrono::milliseconds delay) {
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, delay);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

}  // namespace bbmd::db
