// WAL-rate pacing arithmetic: each batch's WAL is paid for at the ceiling's rate before the next.
#include <catch2/catch.hpp>

#include "throttle/wal_rate_pacer.hpp"

using bbmd::throttle::WalRatePacer;
using namespace std::chrono_literals;

namespace {
const WalRatePacer::Clock::time_point t0{};
}

TEST_CASE("WAL-rate pacer: the first position only starts the count", "[throttle][unit]") {
  WalRatePacer pacer(1000);
  CHECK(pacer.pause_at(t0) == 0ms);
  pacer.observe(5'000'000, t0);
  CHECK(pacer.pause_at(t0) == 0ms);
  CHECK_FALSE(pacer.last_rate());
}

TEST_CASE("WAL-rate pacer: a batch is followed by a pause proportional to its WAL", "[throttle][unit]") {
  WalRatePacer pacer(1'000'000);  // 1 MB/s
  pacer.observe(0, t0);
  // A batch wrote 3 MB in 0.5 s: 3 s of allowance, 2.5 s of it still owed.
  pacer.observe(3'000'000, t0 + 500ms);
  CHECK(pacer.pause_at(t0 + 500ms) == 2500ms);
  CHECK(pacer.last_rate() == Approx(6'000'000));
  CHECK(pacer.last_interval_seconds() == Approx(0.5));
  CHECK(pacer.pause_at(t0 + 2999ms) == 1ms);
  CHECK(pacer.pause_at(t0 + 3s) == 0ms);
  // Ten times the WAL, ten times the pause: the next batch wrote 30 MB in 1 s after the pause.
  pacer.observe(3'000'000, t0 + 3s);
  pacer.observe(33'000'000, t0 + 4s);
  CHECK(pacer.pause_at(t0 + 4s) == 29s);
}

TEST_CASE("WAL-rate pacer: writing under the ceiling never pauses, and idle time earns no burst", "[throttle][unit]") {
  WalRatePacer pacer(1'000'000);
  pacer.observe(0, t0);
  pacer.observe(900'000, t0 + 1s);  // 0.9 MB/s
  CHECK(pacer.pause_at(t0 + 1s) == 0ms);
  // An hour idle, then 2 MB in 1 s: only the second it was written in counts as allowance.
  pacer.observe(900'000, t0 + 3600s);
  pacer.observe(2'900'000, t0 + 3601s);
  CHECK(pacer.pause_at(t0 + 3601s) == 1s);
}

TEST_CASE("WAL-rate pacer: over a paced run the rate converges to the ceiling", "[throttle][unit]") {
  // A worker that writes 4 MB per 0.1 s batch against a 1 MB/s ceiling, waking exactly when
  // the pause ends: 25 batches (100 MB) take 100 s, the last batch's WAL included.
  WalRatePacer pacer(1'000'000);
  auto now = t0;
  double written = 0;
  pacer.observe(written, now);
  for (int batch = 0; batch < 25; ++batch) {
    now += pacer.pause_at(now);
    pacer.observe(written, now);
    now += pacer.pause_at(now);
    now += 100ms;
    written += 4'000'000;
    pacer.observe(written, now);
  }
  const double seconds = std::chrono::duration<double>(now - t0).count();
  CHECK(written / seconds == Approx(1'000'000 * 100.0 / 96.1));  // the last batch's 3.9 s pause is not yet taken
  CHECK(pacer.pause_at(now) == 3900ms);
}

TEST_CASE("WAL-rate pacer: a position that went back starts over", "[throttle][unit]") {
  WalRatePacer pacer(1'000'000);
  pacer.observe(10'000'000, t0);
  pacer.observe(20'000'000, t0 + 1s);
  CHECK(pacer.pause_at(t0 + 1s) == 9s);
  pacer.observe(5'000, t0 + 2s);  // another server behind the same address
  CHECK(pacer.pause_at(t0 + 2s) == 0ms);
  CHECK_FALSE(pacer.last_rate());
}

TEST_CASE("WAL-rate pacer: a ceiling of zero counts as 1 byte/s and long pauses are capped at a day", "[throttle][unit]") {
  WalRatePacer pacer(0);
  pacer.observe(0, t0);
  pacer.observe(10, t0);
  CHECK(pacer.pause_at(t0) == 10s);
  pacer.observe(1e15, t0 + 10s);
  CHECK(pacer.pause_at(t0 + 10s) == 86400s);
}
