// Parsing and printing of Go-style duration strings.
#include "config/duration.hpp"

#include <array>
#include <cstdint>
#include <limits>

namespace bbmd::config {
namespace {

constexpr std::uint64_t kMaxNanos = std::numeric_limits<std::int64_t>::max();  // Go's limit too

struct Unit {
  std::string_view name;
  std::uint64_t nanos;
};

// "µs" appears twice because U+00B5 (micro sign) and U+03BC (Greek mu) look alike; Go takes both.
constexpr std::array<Unit, 8> kUnits{{{"ns", 1},
                                      {"us", 1'000},
                                      {"\u00b5s", 1'000},
                                      {"\u03bcs", 1'000},
                                      {"ms", 1'000'000},
                                      {"s", 1'000'000'000},
                                      {"m", 60'000'000'000},
                                      {"h", 3'600'000'000'000}}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// "10" or "1.5": a number someone forgot to give a unit, worth its own message.
bool is_bare_number(std::string_view s) {
  bool digit = false;
  for (char c : s) {
    if (!is_digit(c) && c != '.') return false;
    digit = digit || is_digit(c);
  }
  return digit;
}

std::uint64_t unit_nanos(std::string_view unit) {
  if (unit.empty()) throw DurationError("missing unit after a number (use ns, us, ms, s, m or h)");
  for (const auto& u : kUnits) {
    if (u.name == unit) return u.nanos;
  }
  throw DurationError("unknown unit \"" + std::string(unit) + "\" (use ns, us, ms, s, m or h)");
}

// One <number><unit> component, consumed from the front of `s`, in nanoseconds.
std::uint64_t take_component(std::string_view& s) {
  std::uint64_t whole = 0;
  std::size_t i = 0;
  for (; i < s.size() && is_digit(s[i]); ++i) {
    const auto digit = static_cast<std::uint64_t>(s[i] - '0');
    if (whole > (kMaxNanos - digit) / 10) throw DurationError("value is too large");
    whole = whole * 10 + digit;
  }
  const bool has_whole = i > 0;
  // Fraction digits beyond what fits are dropped, as Go does: they are below nanosecond precision.
  std::uint64_t frac = 0;
  double scale = 1;
  bool has_frac = false;
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && is_digit(s[i]); ++i) {
      has_frac = true;
      if (frac > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) continue;
      frac = frac * 10 + static_cast<std::uint64_t>(s[i] - '0');
      scale *= 10;
    }
  }
  if (!has_whole && !has_frac) throw DurationError("expected a number before the unit");
  std::size_t unit_end = i;
  while (unit_end < s.size() && !is_digit(s[unit_end]) && s[unit_end] != '.') ++unit_end;
  const std::uint64_t unit = unit_nanos(s.substr(i, unit_end - i));
  s.remove_prefix(unit_end);
  if (whole > kMaxNanos / unit) throw DurationError("value is too large");
  const auto frac_nanos = static_cast<std::uint64_t>(static_cast<double>(frac) * (static_cast<double>(unit) / scale));
  return whole * unit + frac_nanos;
}

}  // namespace

Duration parse_duration(std::string_view text) {
  if (text.empty()) throw DurationError("empty duration");
  if (text.front() == '-') throw DurationError("negative durations are not allowed");
  if (text.front() == '+') text.remove_prefix(1);
  if (text == "0") return Duration{0};
  if (is_bare_number(text)) throw DurationError("a bare number is not a duration; add a unit, e.g. \"10s\" or \"500ms\"");
  if (text.empty()) throw DurationError("expected a number before the unit");
  std::uint64_t total = 0;
  while (!text.empty()) {
    const std::uint64_t part = take_component(text);
    if (part > kMaxNanos - total) throw DurationError("value is too large");
    total += part;
  }
  constexpr std::uint64_t kNanosPerMilli = 1'000'000;
  return Duration{static_cast<Duration::rep>((total + kNanosPerMilli - 1) / kNanosPerMilli)};
}

std::string format_duration(Duration d) {
  if (d.count() == 0) return "0s";
  std::string out;
  auto ms = d.count();
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  constexpr std::array<std::pair<long long, std::string_view>, 4> kParts{
      {{3'600'000, "h"}, {60'000, "m"}, {1'000, "s"}, {1, "ms"}}};
  for (const auto& [size, name] : kParts) {
    if (ms >= size) {
      out += std::to_string(ms / size);
      out += name;
      ms %= size;
    }
  }
  return out;
}

}  // namespace bbmd::config
