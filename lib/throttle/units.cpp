// Formats byte counts and durations for the detail text of a Stop.
#include "throttle/units.hpp"

#include <array>
#include <cmath>
#include <cstdio>

namespace bbmd::throttle {
namespace {

// Binary units, as PostgreSQL's pg_size_pretty and wal_segment_size use them.
constexpr std::array<const char*, 6> kUnits{"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
constexpr double kStep = 1024.0;

std::string one_decimal(double v, const char* suffix) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f%s", v, suffix);
  return buf;
}

}  // namespace

std::string bytes_text(double bytes) {
  std::size_t unit = 0;
  double v = bytes;
  while (std::fabs(v) >= kStep && unit + 1 < kUnits.size()) {
    v /= kStep;
    ++unit;
  }
  if (unit == 0) return std::to_string(static_cast<long long>(std::llround(v))) + " B";
  return one_decimal(v, (std::string(" ") + kUnits[unit]).c_str());
}

std::string seconds_text(double seconds) { return one_decimal(seconds, "s"); }

}  // namespace bbmd::throttle
