// Replication indicators against a real streaming standby on loopback: replay lag (paused replay
// builds it, resumed replay clears it) and WAL retained by a replication slot.
#include <catch2/catch.hpp>

#include "support/async.hpp"
#include "support/pg_cluster.hpp"
#include "support/poll.hpp"
#include "throttle/indicators.hpp"
#include "throttle_test_support.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::test::PgCluster;
using bbmd::test::poll_check;
using bbmd::test::run_async;

namespace {
constexpr double kKiB = 1024;
// Generous for a loopback standby; the conditions usually hold within a second.
constexpr auto kPatience = 15s;
}  // namespace

TEST_CASE("replication lag: paused replay on a real standby stops, resumed replay goes", "[throttle][replication]") {
  PgCluster primary;
  // The standby reports its replay position every second instead of every 10 s (the default),
  // so the primary sees it catch up promptly after resume.
  auto standby = primary.create_standby({"wal_receiver_status_interval = 1s"});
  REQUIRE(bbmd::test::poll_until(
      [&] { return primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"; },
      kPatience));
  primary.exec("CREATE TABLE t (id int, pad text)");

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(primary.config());
    // A time limit nobody reaches here; the byte limit is what a paused replay trips.
    auto lag = bbmd::throttle::make_replication_lag(60s, 256 * kKiB);
    const bbmd::throttle::Context ctx;

    auto answer = co_await poll_check(*lag, *conn, ctx, false, kPatience);
    REQUIRE_FALSE(answer);

    standby->exec("SELECT pg_wal_replay_pause()");
    // About 1.5 MB of WAL that the standby receives but does not replay.
    primary.exec("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 6000) g");
    answer = co_await poll_check(*lag, *conn, ctx, true, kPatience);
    REQUIRE(answer);
    CHECK(answer->reason == "replication_lag");
    CHECK_THAT(answer->detail, Catch::Contains("standby \"") && Catch::Contains("not replayed") &&
                                   Catch::Contains("limit 256.0 KiB"));

    standby->exec("SELECT pg_wal_replay_resume()");
    answer = co_await poll_check(*lag, *conn, ctx, false, kPatience);
    CHECK_FALSE(answer);
  });
}

TEST_CASE("replication lag: a time limit stops on replay_lag", "[throttle][replication]") {
  PgCluster primary;
  auto standby = primary.create_standby({"wal_receiver_status_interval = 1s"});
  REQUIRE(bbmd::test::poll_until(
      [&] { return primary.scalar("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == "1"; },
      kPatience));
  primary.exec("CREATE TABLE t (id int)");
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(primary.config());
    // Any measured replay_lag exceeds 0; bytes are out of the way.
    auto lag = bbmd::throttle::make_replication_lag(0ms, 1e15);
    const bbmd::throttle::Context ctx;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::optional<bbmd::throttle::Stop> answer;
    // replay_lag is measured as the standby replays new WAL, so keep writing while polling.
    for (const auto deadline = std::chrono::steady_clock::now() + kPatience;
         !answer && std::chrono::steady_clock::now() < deadline;) {
      primary.exec("INSERT INTO t VALUES (1)");
      answer = co_await lag->check(*conn, ctx);
      timer.expires_after(50ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    REQUIRE(answer);
    CHECK(answer->reason == "replication_lag");
    CHECK_THAT(answer->detail, Catch::Contains("replay lags") && Catch::Contains("(limit 0.0s)"));
  });
}

TEST_CASE("slot retention: a slot holding back WAL stops, dropping it goes", "[throttle][replication]") {
  PgCluster primary;
  primary.exec("CREATE TABLE t (id int, pad text)");
  // immediately_reserve: the slot pins WAL from now on, as an unconsumed standby slot would.
  primary.exec("SELECT pg_create_physical_replication_slot('bbmd_test_slot', true)");
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(primary.config());
    auto slots = bbmd::throttle::make_slot_retention(512 * kKiB);
    const bbmd::throttle::Context ctx;
    const auto go_1 = co_await slots->check(*conn, ctx);
    CHECK_FALSE(go_1);

    primary.exec("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 6000) g");
    const auto answer = co_await slots->check(*conn, ctx);
    REQUIRE(answer);
    CHECK(answer->reason == "replication_slot_retention");
    CHECK_THAT(answer->detail, Catch::Contains("\"bbmd_test_slot\"") && Catch::Contains("limit 512.0 KiB"));

    primary.exec("SELECT pg_drop_replication_slot('bbmd_test_slot')");
    const auto go_2 = co_await slots->check(*conn, ctx);
    CHECK_FALSE(go_2);
  });
}
