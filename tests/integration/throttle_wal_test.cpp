// WAL indicators against real servers: the archive backlog with a failing archive_command and
// 1 MB segments, and the WAL generation rate against a low and a high ceiling and over a paced run.
#include <catch2/catch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "support/async.hpp"
#include "support/pg_cluster.hpp"
#include "support/poll.hpp"
#include "support/test_db.hpp"
#include "throttle/indicators.hpp"
#include "throttle_test_support.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using bbmd::test::PgCluster;
using bbmd::test::poll_check;
using bbmd::test::kNoTable;
using bbmd::test::run_async;

TEST_CASE("archive backlog: a failing archive_command stops past the limit, in real segments", "[throttle][wal]") {
  // 1 MB segments: six switches move the LSN by about 6 MB, less than one 16 MB segment, so a
  // backlog over 3 is only visible when the server's real segment size is used.
  PgCluster primary({.initdb_args = {"--wal-segsize=1"},
                     .settings = {"archive_mode = on", "archive_command = '/bin/false'"}});
  REQUIRE(primary.scalar("SHOW wal_segment_size") == "1MB");
  primary.exec("CREATE TABLE t (id int)");

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(primary.config());
    auto archive = bbmd::throttle::make_wal_archive(3);
    auto lenient = bbmd::throttle::make_wal_archive(20);
    const bbmd::throttle::Context ctx;
    const auto go_1 = co_await archive->check(*conn, ctx);
    CHECK_FALSE(go_1);

    for (int i = 0; i < 6; ++i) primary.exec("INSERT INTO t VALUES (1); SELECT pg_switch_wal()");
    const auto answer = co_await poll_check(*archive, *conn, ctx, true, 15s);
    REQUIRE(answer);
    CHECK(answer->reason == "wal_archive_backlog");
    CHECK_THAT(answer->detail, Catch::Contains("segments of 1 MB") && Catch::Contains("(limit 3)"));
    const auto go_2 = co_await lenient->check(*conn, ctx);
    CHECK_FALSE(go_2);
  });
}

TEST_CASE("archive backlog: archive_mode off never stops", "[throttle][wal]") {
  bbmd::test::TestDatabase db;
  REQUIRE(db.scalar("SHOW archive_mode") == "off");
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto archive = bbmd::throttle::make_wal_archive(0);
    const auto go_3 = co_await archive->check(*conn, kNoTable);
    CHECK_FALSE(go_3);
  });
}

TEST_CASE("WAL rate: a low ceiling stops while writing, a high one does not", "[throttle][wal]") {
  bbmd::test::TestDatabase db;
  db.exec("CREATE TABLE w (id int, pad text)");
  bbmd::test::BackgroundWriter writer(db.conninfo(), "w");
  // Writing before the first sample: the WAL position is the cluster's, and tests beside this one
  // could otherwise supply all the writing the checks see.
  REQUIRE(bbmd::test::poll_until([&] { return writer.batches() > 0; }, 10s));

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto low = bbmd::throttle::make_wal_rate(1024);   // 1 KiB/s: any real writing exceeds it
    auto high = bbmd::throttle::make_wal_rate(1e12);  // 1 TB/s: nothing here reaches it
    const bbmd::throttle::Context ctx;
    const auto low_first = co_await low->check(*conn, ctx);
    CHECK_FALSE(low_first);  // the first check only takes a sample
    const auto high_first = co_await high->check(*conn, ctx);
    CHECK_FALSE(high_first);

    const auto answer = co_await poll_check(*low, *conn, ctx, true, 15s);
    REQUIRE(answer);
    CHECK(answer->reason == "wal_rate");
    CHECK_THAT(answer->detail, Catch::Contains("/s over") && Catch::Contains("(limit 1.0 KiB/s), pausing "));
    CHECK(answer->pause > 0ms);
    // The high ceiling has seen the same writing.
    const auto go_5 = co_await high->check(*conn, ctx);
    CHECK_FALSE(go_5);
  });
}

TEST_CASE("WAL rate: batches paced by the check write at most the ceiling over a run", "[throttle][wal]") {
  // A worker's loop against a 2 MB/s ceiling with batches of about 1.4 MB of WAL each (10,000
  // rows): wait out each pause, then write a batch. Unpaced, this machine writes them many
  // times faster. The run ends once the last batch's pause has passed, as the next job would.
  // A cluster of its own: the WAL position is cluster-wide, and tests running beside this one on
  // the shared server would count against the ceiling.
  constexpr double kCeiling = 2'000'000;
  bbmd::test::PgCluster server;
  server.exec("CREATE TABLE w (id int, pad text)");
  const auto start_lsn = server.scalar("SELECT pg_current_wal_insert_lsn()");
  const auto start = std::chrono::steady_clock::now();
  int batches = 0;
  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(server.config());
    auto pacer = bbmd::throttle::make_wal_rate(kCeiling);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const bbmd::throttle::Context ctx;
    while (std::chrono::steady_clock::now() - start < 4s) {
      const auto stop = co_await pacer->check(*conn, ctx);
      if (stop) {
        REQUIRE(stop->reason == "wal_rate");
        timer.expires_after(stop->pause);
        co_await timer.async_wait(asio::use_awaitable);
        continue;
      }
      server.exec("INSERT INTO w SELECT g, repeat('w', 100) FROM generate_series(1, 10000) g");
      ++batches;
    }
    for (;;) {
      const auto last = co_await pacer->check(*conn, ctx);
      if (!last) break;
      timer.expires_after(last->pause);
      co_await timer.async_wait(asio::use_awaitable);
    }
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double bytes = std::stod(server.scalar("SELECT pg_current_wal_insert_lsn() - '" + start_lsn + "'::pg_lsn"));
  INFO("batches " << batches << ", " << bytes << " bytes in " << seconds << " s");
  CHECK(batches >= 3);
  CHECK(bytes / seconds <= 1.05 * kCeiling);
  CHECK(bytes / seconds >= 0.8 * kCeiling);
}
