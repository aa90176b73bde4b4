#pragma once
// Shared by the throttle integration tests: connect bbmd's Connection, poll an indicator until
// it says stop (or go), and keep a server busy writing from a background thread.
#include <libpq-fe.h>

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "db/connection.hpp"
#include "db/conninfo.hpp"
#include "throttle/indicator.hpp"

namespace bbmd::test {

namespace asio = boost::asio;

// A context with no target table, for indicators that ignore it. Named because GCC 12
// miscompiles a braced `{}` argument inside a co_await expression.
inline const throttle::Context kNoTable{};
// Likewise, never write CHECK(co_await ...): GCC 12 runs a co_await inside Catch's assertion
// macros more than once. Await into a variable, then check it.

inline asio::awaitable<std::unique_ptr<db::Connection>> connect_to(const config::Database& db) {
  auto ex = co_await asio::this_coro::executor;
  co_return co_await db::Connection::connect(ex, db::conn_params(db, "bbmd-throttle-test"));
}

// Asks `indicator` every `step` until its answer is a stop (want_stop) or a go (!want_stop);
// returns the last answer, which the caller checks (a timeout shows as the wrong kind).
inline asio::awaitable<std::optional<throttle::Stop>> poll_check(throttle::Indicator& indicator, db::Connection& conn,
                                                                 const throttle::Context& ctx, bool want_stop,
                                                                 std::chrono::milliseconds timeout,
                                                                 std::chrono::milliseconds step = std::chrono::milliseconds(50)) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto answer = co_await indicator.check(conn, ctx);
    if (answer.has_value() == want_stop || std::chrono::steady_clock::now() >= deadline) co_return answer;
    timer.expires_after(step);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

// Inserts rows in small committed transactions on its own connection until destroyed, so WAL
// keeps flowing (and pg_stat_wal keeps being flushed) while a test polls.
class BackgroundWriter {
 public:
  BackgroundWriter(std::string conninfo, std::string table) : thread_([this, conninfo, table] {
      PGconn* c = PQconnectdb(conninfo.c_str());
      const std::string sql = "INSERT INTO " + table + " SELECT g, repeat('w', 200) FROM generate_series(1, 200) g";
      while (!stop_ && PQstatus(c) == CONNECTION_OK) {
        PQclear(PQexec(c, sql.c_str()));
        ++batches_;
      }
      PQfinish(c);
    }) {}
  ~BackgroundWriter() {
    stop_ = true;
    thread_.join();
  }
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;
  [[nodiscard]] long batches() const noexcept { return batches_; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<long> batches_{0};
  std::thread thread_;
};

}  // namespace bbmd::test
