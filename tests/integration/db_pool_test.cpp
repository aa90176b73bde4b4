// db::Pool against a real PostgreSQL: the max_open bound, dropping broken connections,
// reconnect backoff and the query observer.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/conninfo.hpp"
#include "db/pool.hpp"
#include "support/async.hpp"
#include "support/test_db.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::db::Error;
using bbmd::db::ErrorKind;
using bbmd::db::Pool;
using bbmd::db::PooledConnection;
using bbmd::test::async_poll_until;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<Pool> make_pool(asio::any_io_executor ex, const bbmd::config::Database& cfg, std::size_t max_open,
                                bbmd::db::QueryObserver observer = {}) {
  Pool::Options opts;
  opts.max_open = max_open;
  opts.reconnect_initial = 300ms;
  opts.reconnect_max = 1s;
  return Pool::create(ex, bbmd::db::conn_params(cfg, "bbmd-pool-test"), opts, std::move(observer));
}

// Ends a session's server process, as an administrator or a failover would.
void terminate(TestDatabase& db, int backend_pid) {
  db.exec("SELECT pg_terminate_backend(" + std::to_string(backend_pid) + ", 5000)");
}

// The server process of a connection the pool hands out, given back at once (idle in the pool).
asio::awaitable<int> idle_session_pid(Pool& pool) {
  auto c = co_await pool.acquire();
  co_return c->backend_pid();
}

// The pool's next connection is a new server session, and it answers.
asio::awaitable<void> expect_new_session(Pool& pool, int old_pid) {
  auto c = co_await pool.acquire();
  CHECK(c->backend_pid() != old_pid);
  auto res = co_await c->query("ping", "SELECT 1");
  CHECK(res.get_int(0, 0) == 1);
}

// Lets every coroutine that is ready to run do so, without waiting on time.
asio::awaitable<void> let_others_run() {
  for (int i = 0; i < 10; ++i) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
}

}  // namespace

TEST_CASE("the pool never opens more than max_open connections", "[db][pool]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 2);
    auto a = co_await pool->acquire();
    auto b = co_await pool->acquire();
    std::optional<PooledConnection> third;
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> { third = co_await pool->acquire(); }, asio::detached);
    co_await let_others_run();
    CHECK_FALSE(third.has_value());
    auto s = pool->stats();
    CHECK(s.open == 2);
    CHECK(s.in_use == 2);
    CHECK(s.waiting == 1);

    int pid_a = a->backend_pid();
    a = PooledConnection();  // returned: handed straight to the waiter
    bool got_it = co_await async_poll_until([&] { return third.has_value(); }, 5s);
    REQUIRE(got_it);
    CHECK((*third)->backend_pid() == pid_a);  // reused, not a new connection
    s = pool->stats();
    CHECK(s.open == 2);
    CHECK(s.in_use == 2);
    CHECK(s.waiting == 0);

    auto res = co_await (*third)->query("ping", "SELECT 1");
    CHECK(res.get_int(0, 0) == 1);
    third.reset();
    b = PooledConnection();
    s = pool->stats();
    CHECK(s.in_use == 0);
    CHECK(s.open == 2);  // idle, kept for reuse
    pool->close();
    CHECK(pool->stats().open == 0);
  });
}

TEST_CASE("a broken connection is dropped and replaced", "[db][pool]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 1);
    int old_pid = 0;
    {
      auto c = co_await pool->acquire();
      old_pid = c->backend_pid();
      terminate(db, old_pid);
      ErrorKind kind = ErrorKind::other;
      try {
        co_await c->query("after_kill", "SELECT 1");
      } catch (const Error& e) {
        kind = e.kind();
      }
      CHECK(kind == ErrorKind::connection_lost);
      CHECK(c->broken());
    }
    CHECK(pool->stats().open == 0);  // the slot is free again

    co_await expect_new_session(*pool, old_pid);
    CHECK(pool->stats().reconnects == 1);
  });
}

TEST_CASE("an idle connection whose server session died is replaced on acquire", "[db][pool]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 1);
    const int old_pid = co_await idle_session_pid(*pool);
    terminate(db, old_pid);
    co_await expect_new_session(*pool, old_pid);  // no connection_lost for the caller
    auto s = pool->stats();
    CHECK(s.open == 1);
    CHECK(s.reconnects == 1);
  });
}

TEST_CASE("after a failed connect the next attempt waits for the backoff", "[db][pool]") {
  const auto cfg = bbmd::test::refusing_database();
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, cfg, 2);
    std::vector<Clock::time_point> failures;
    for (int i = 0; i < 2; ++i) {
      try {
        co_await pool->acquire();
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::connection_lost);
        failures.push_back(Clock::now());
      }
    }
    REQUIRE(failures.size() == 2);
    CHECK(failures[1] - failures[0] >= 300ms);  // reconnect_initial
    auto s = pool->stats();
    CHECK(s.connect_failures == 2);
    CHECK(s.open == 0);
    CHECK(s.reconnects == 0);
  });
}

TEST_CASE("pool connections report their queries to the observer", "[db][pool]") {
  TestDatabase db;
  std::multiset<std::string> names;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 2, [&](std::string_view name, double, bool) { names.emplace(name); });
    auto c = co_await pool->acquire();
    co_await c->query("lease_job", "SELECT 1");
    co_await c->query("lease_job", "SELECT 2");
    co_await c->query("finish_job", "SELECT 3");
  });
  CHECK(names.count("lease_job") == 2);
  CHECK(names.count("finish_job") == 1);
}

TEST_CASE("close() fails pending and later acquires", "[db][pool]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 1);
    auto held = co_await pool->acquire();
    bool pending_failed = false;
    asio::co_spawn(
        ex,
        [&]() -> asio::awaitable<void> {
          try {
            co_await pool->acquire();
          } catch (const Error&) {
            pending_failed = true;
          }
        },
        asio::detached);
    co_await let_others_run();
    pool->close();
    bool failed = co_await async_poll_until([&] { return pending_failed; }, 5s);
    CHECK(failed);
    bool later_failed = false;
    try {
      co_await pool->acquire();
    } catch (const Error&) {
      later_failed = true;
    }
    CHECK(later_failed);
    held = PooledConnection();  // returned after close: closed, not kept
    CHECK(pool->stats().open == 0);
  });
}

TEST_CASE("acquire_if_free never waits: a connection only when one is free at once", "[db][pool]") {
  TestDatabase db;
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, db.config(), 2);
    auto held = co_await pool->acquire();
    auto spare = co_await pool->acquire_if_free();  // a free slot: connects
    REQUIRE(spare);
    CHECK(pool->stats().open == 2);
    auto none = co_await pool->acquire_if_free();  // both in use
    CHECK_FALSE(none);
    CHECK(pool->stats().waiting == 0);  // it did not queue

    const int spare_pid = spare->backend_pid();
    spare = PooledConnection();
    auto again = co_await pool->acquire_if_free();  // the idle one, reused
    REQUIRE(again);
    CHECK(again->backend_pid() == spare_pid);

    // A queued acquire() is served first: acquire_if_free does not jump the queue.
    std::optional<PooledConnection> queued;
    asio::co_spawn(ex, [&]() -> asio::awaitable<void> { queued = co_await pool->acquire(); }, asio::detached);
    co_await let_others_run();
    REQUIRE(pool->stats().waiting == 1);
    auto jumped = co_await pool->acquire_if_free();
    CHECK_FALSE(jumped);
    again = PooledConnection();
    const bool served = co_await async_poll_until([&] { return queued.has_value(); }, 5s);
    CHECK(served);
    queued.reset();

    pool->close();
    auto closed = co_await pool->acquire_if_free();  // closed: empty, not an exception
    CHECK_FALSE(closed);
  });
}

TEST_CASE("acquire_if_free does not connect while the reconnect backoff runs", "[db][pool]") {
  const auto cfg = bbmd::test::refusing_database();
  run_async([&](asio::any_io_executor ex) -> asio::awaitable<void> {
    auto pool = make_pool(ex, cfg, 2);
    bool failed = false;
    try {
      co_await pool->acquire();
    } catch (const Error&) {
      failed = true;
    }
    REQUIRE(failed);
    const auto before = Clock::now();
    auto none = co_await pool->acquire_if_free();
    CHECK_FALSE(none);
    CHECK(Clock::now() - before < 300ms);  // did not sit out reconnect_initial
    CHECK(pool->stats().connect_failures == 1);
  });
}
