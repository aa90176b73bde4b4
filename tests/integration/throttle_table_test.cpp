// Indicators about the target table and other sessions, against the test server: a VACUUM on
// the target table holds until it ends, lock waiters of the last batch, the oldest transaction.
#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <thread>

#include "support/async.hpp"
#include "support/test_db.hpp"
#include "throttle/indicators.hpp"
#include "throttle_test_support.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::test::poll_check;
using bbmd::test::run_async;
using bbmd::test::TestDatabase;

TEST_CASE("autovacuum: a VACUUM on the target table holds until it ends, other tables go", "[throttle][vacuum]") {
  TestDatabase db;
  // ~800 heap pages with autovacuum off, so only our VACUUM touches it.
  db.exec("CREATE TABLE big (id int, pad text) WITH (autovacuum_enabled = off);"
          "INSERT INTO big SELECT g, repeat('v', 100) FROM generate_series(1, 50000) g;"
          "CREATE TABLE other (id int)");
  const auto big_oid = static_cast<std::uint32_t>(db.count("SELECT 'public.big'::regclass::oid"));
  const auto other_oid = static_cast<std::uint32_t>(db.count("SELECT 'public.other'::regclass::oid"));

  // Cost-based delay after every page (limit 1, 10-40 ms each) keeps it running for seconds;
  // the test ends it with a cancel once the indicator has seen it, instead of waiting.
  PGconn* vac = PQconnectdb(db.conninfo().c_str());
  REQUIRE(PQstatus(vac) == CONNECTION_OK);
  PQclear(PQexec(vac, "SET vacuum_cost_delay = '10ms'"));
  PQclear(PQexec(vac, "SET vacuum_cost_limit = 1"));
  const int vac_pid = PQbackendPID(vac);
  std::thread vacuum([vac] { PQclear(PQexec(vac, "VACUUM big")); });

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto autovacuum = bbmd::throttle::make_autovacuum();
    const bbmd::throttle::Context on_big{.migration_id = 1, .table_oid = big_oid, .table_name = "public.big"};
    const bbmd::throttle::Context on_other{.migration_id = 2, .table_oid = other_oid, .table_name = "public.other"};

    auto answer = co_await poll_check(*autovacuum, *conn, on_big, true, 10s, 20ms);
    REQUIRE(answer);
    CHECK(answer->reason == "autovacuum");
    CHECK_THAT(answer->detail, Catch::StartsWith("VACUUM running on public.big") &&
                                   Catch::Contains("pid " + std::to_string(vac_pid)));
    const auto go_1 = co_await autovacuum->check(*conn, on_other);
    CHECK_FALSE(go_1);

    co_await conn->query("cancel_vacuum", "SELECT pg_cancel_backend($1)", vac_pid);
    answer = co_await poll_check(*autovacuum, *conn, on_big, false, 10s, 20ms);
    CHECK_FALSE(answer);
  });
  vacuum.join();
  PQfinish(vac);
}

TEST_CASE("lock waiters: more waiters on the last batch than allowed stops", "[throttle][locks]") {
  TestDatabase db;
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto waiters = bbmd::throttle::make_lock_waiters(1);
    bbmd::throttle::Context ctx{.migration_id = 1, .table_oid = 1, .table_name = "public.items"};
    ctx.waiters_on_last_batch = 1;
    const auto go_2 = co_await waiters->check(*conn, ctx);
    CHECK_FALSE(go_2);
    ctx.waiters_on_last_batch = 2;
    const auto answer = co_await waiters->check(*conn, ctx);
    REQUIRE(answer);
    CHECK(answer->reason == "lock_waiters");
    CHECK(answer->detail == "2 sessions waited on locks held by the last batch on public.items (limit 1)");
  });
}

TEST_CASE("oldest transaction: an open transaction past the limit stops, its commit goes", "[throttle][transactions]") {
  TestDatabase db;
  PGconn* other = PQconnectdb(db.conninfo().c_str());
  REQUIRE(PQstatus(other) == CONNECTION_OK);
  PQclear(PQexec(other, "BEGIN"));
  PQclear(PQexec(other, "SELECT 1"));
  const int other_pid = PQbackendPID(other);

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto oldest = bbmd::throttle::make_oldest_transaction(300ms);
    const bbmd::throttle::Context ctx;
    auto answer = co_await poll_check(*oldest, *conn, ctx, true, 10s);
    REQUIRE(answer);
    CHECK(answer->reason == "oldest_transaction");
    CHECK_THAT(answer->detail, Catch::Contains("pid " + std::to_string(other_pid)) &&
                                   Catch::Contains("idle in transaction") && Catch::Contains("(limit 0.3s)"));

    PQclear(PQexec(other, "COMMIT"));
    answer = co_await poll_check(*oldest, *conn, ctx, false, 10s);
    CHECK_FALSE(answer);
  });
  PQfinish(other);
}
