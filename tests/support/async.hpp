#pragma once
// Run Asio coroutines to completion from a plain (blocking) test body.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <future>
#include <stdexcept>

namespace bbmd::test {

// Runs `f(executor)` (returning asio::awaitable<T>) on a fresh single-threaded io_context and
// returns its value; exceptions from the coroutine are rethrown here. Fails with
// std::runtime_error if it has not finished within `timeout`, so a hung test fails instead.
//   auto n = run_async([&](auto ex) -> asio::awaitable<int> { ... co_return 1; });
template <class F>
auto run_async(F f, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  boost::asio::io_context ctx;
  auto fut = boost::asio::co_spawn(ctx, f(ctx.get_executor()), boost::asio::use_future);
  ctx.run_for(timeout);
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    throw std::runtime_error("run_async: coroutine did not finish in time");
  }
  return fut.get();
}

// The coroutine counterpart of poll_until: checks cond() every `step` on the loop (other
// coroutines keep running meanwhile) until it is true (-> true) or `timeout` passes (-> false).
template <class F>
boost::asio::awaitable<bool> async_poll_until(F cond, std::chrono::milliseconds timeout,
                                              std::chrono::milliseconds step = std::chrono::milliseconds(20)) {
  auto ex = co_await boost::asio::this_coro::executor;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  boost::asio::steady_timer timer(ex);
  for (;;) {
    if (cond()) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(step);
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace bbmd::test
