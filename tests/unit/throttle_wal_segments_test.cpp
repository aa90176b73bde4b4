// WAL segment arithmetic: file names with the real segment size, and the archive backlog rules.
#include <catch2/catch.hpp>

#include "throttle/wal_segments.hpp"

using bbmd::throttle::archive_backlog;
using bbmd::throttle::ArchiverState;
using bbmd::throttle::segment_of_walfile;

namespace {
constexpr std::int64_t kMiB = 1024 * 1024;
}

TEST_CASE("WAL file names map to segment numbers with the server's segment size", "[throttle][unit]") {
  // 16 MB: 256 segments per 4 GiB "log"; 1 MB: 4096.
  CHECK(segment_of_walfile("000000010000000000000003", 16 * kMiB) == 3);
  CHECK(segment_of_walfile("00000001000000020000000A", 16 * kMiB) == 2 * 256 + 10);
  CHECK(segment_of_walfile("00000001000000020000000A", 1 * kMiB) == 2 * 4096 + 10);
  CHECK(segment_of_walfile("000000010000000000000003.partial", 16 * kMiB) == 3);
  CHECK(segment_of_walfile("000000010000000000000003.00000028.backup", 16 * kMiB) == 3);
  // Not segments: timeline history files, junk, a size that is not a power of two.
  CHECK_FALSE(segment_of_walfile("00000002.history", 16 * kMiB));
  CHECK_FALSE(segment_of_walfile("0000000100000000000000GG", 16 * kMiB));
  CHECK_FALSE(segment_of_walfile("000000010000000000000003x", 16 * kMiB));
  CHECK_FALSE(segment_of_walfile("000000010000000000000003", 3 * kMiB));
}

TEST_CASE("archive backlog counts completed segments not yet archived", "[throttle][unit]") {
  ArchiverState s;
  s.segment_size = 1 * kMiB;
  s.current_lsn = 10 * kMiB + 123;  // writing segment 10

  SECTION("nothing asked of the archiver yet") { CHECK(archive_backlog(s) == 0); }
  SECTION("caught up: the last archived segment is the one before the current") {
    s.last_archived_segment = 9;
    CHECK(archive_backlog(s) == 0);
  }
  SECTION("behind") {
    s.last_archived_segment = 4;
    s.last_failed_segment = 5;
    CHECK(archive_backlog(s) == 5);  // 5..9
  }
  SECTION("never archived, stuck on its first segment") {
    s.last_failed_segment = 3;
    CHECK(archive_backlog(s) == 7);  // 3..9
  }
  SECTION("a bad segment size never stops") {
    s.segment_size = 0;
    s.last_failed_segment = 3;
    CHECK(archive_backlog(s) == 0);
  }
}
