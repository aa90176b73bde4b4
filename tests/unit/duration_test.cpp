// Go-style duration strings: what parses to how many milliseconds, and what is rejected.
#include <catch2/catch.hpp>

#include "config/duration.hpp"

using bbmd::config::Duration;
using bbmd::config::DurationError;
using bbmd::config::format_duration;
using bbmd::config::parse_duration;

TEST_CASE("durations parse to exact milliseconds", "[config][duration]") {
  const std::pair<const char*, long long> cases[] = {
      {"0", 0},           {"0s", 0},         {"500ms", 500},       {"10s", 10'000},   {"1m30s", 90'000},
      {"2h", 7'200'000},  {"1.5s", 1'500},   {"1h2m3s4ms", 3'723'004}, {"+5s", 5'000}, {".5s", 500},
      {"1.s", 1'000},     {"2000us", 2},     {"3000\u00b5s", 3},   {"4000\u03bcs", 4}, {"5000000ns", 5},
      {"1500us", 2},      {"1ns", 1},        {"0.001s", 1},        {"90m", 5'400'000}, {"1.25m", 75'000},
  };
  for (const auto& [text, ms] : cases) {
    INFO(text);
    CHECK(parse_duration(text) == Duration{ms});
  }
}

TEST_CASE("bad durations are rejected with a reason", "[config][duration]") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "empty"},
      {"10", "bare number"},
      {"1.5", "bare number"},
      {"-1s", "negative"},
      {"-0", "negative"},
      {"5x", "unknown unit \"x\""},
      {"5 s", "unknown unit \" s\""},
      {"s", "expected a number"},
      {"1s5", "missing unit"},
      {"1..5s", "missing unit"},
      {"10sec", "unknown unit \"sec\""},
      {"1d", "unknown unit \"d\""},
      {"9999999999h", "too large"},
      {"99999999999999999999ns", "too large"},
  };
  for (const auto& [text, reason] : cases) {
    INFO(text);
    try {
      (void)parse_duration(text);
      FAIL("accepted " << text);
    } catch (const DurationError& e) {
      CHECK_THAT(e.what(), Catch::Contains(reason));
    }
  }
}

TEST_CASE("format_duration round-trips through parse_duration", "[config][duration]") {
  CHECK(format_duration(Duration{0}) == "0s");
  CHECK(format_duration(Duration{500}) == "500ms");
  CHECK(format_duration(Duration{90'000}) == "1m30s");
  CHECK(format_duration(Duration{7'200'000}) == "2h");
  CHECK(format_duration(Duration{3'723'004}) == "1h2m3s4ms");
  for (long long ms : {0LL, 1LL, 999LL, 1'000LL, 61'001LL, 86'400'000LL}) {
    CHECK(parse_duration(format_duration(Duration{ms})) == Duration{ms});
  }
}
