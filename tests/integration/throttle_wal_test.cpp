// WAL indicators against real servers: the archive backlog with a failing archive_command and
// 1 MB segments, and the WAL generation rate against a low and a high ceiling.
#include <catch2/catch.hpp>

#include "support/async.hpp"
#include "support/pg_cluster.hpp"
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

  run_async([&](auto) -> asio::awaitable<void> {
    auto conn = co_await bbmd::test::connect_to(db.config());
    auto low = bbmd::throttle::make_wal_rate(1024, 0ms);   // 1 KiB/s: any real writing exceeds it
    auto high = bbmd::throttle::make_wal_rate(1e12, 0ms);  // 1 TB/s: nothing here reaches it
    const bbmd::throttle::Context ctx;
    const auto low_first = co_await low->check(*conn, ctx);
    CHECK_FALSE(low_first);  // the first check only takes a sample
    const auto high_first = co_await high->check(*conn, ctx);
    CHECK_FALSE(high_first);

    const auto answer = co_await poll_check(*low, *conn, ctx, true, 15s);
    REQUIRE(answer);
    CHECK(answer->reason == "wal_rate");
    CHECK_THAT(answer->detail, Catch::Contains("/s over") && Catch::Contains("(limit 1.0 KiB/s)"));
    // By now the high ceiling has seen the same writing over at least one full window.
    const auto go_5 = co_await high->check(*conn, ctx);
    CHECK_FALSE(go_5);
  });
  CHECK(writer.batches() > 0);
}
