#pragma once
// WAL file names from pg_stat_archiver: the segment size in bytes (decimal) on the first line,
// the file name on the second. The outcome is the segment number, or that the name (or size)
// is not one bbmd counts.
#include <charconv>

#include "fuzz/entry.hpp"
#include "throttle/wal_segments.hpp"

namespace bbmd::fuzz {

inline std::string wal_segments(std::string_view input) {
  const auto nl = input.find('\n');
  const auto size_text = input.substr(0, nl);
  const auto name = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
  std::int64_t segment_size = 0;
  const auto [end, ec] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), segment_size);
  if (ec != std::errc() || end != size_text.data() + size_text.size()) return rejected("segment size is not a number");
  const auto segment = throttle::segment_of_walfile(name, segment_size);
  if (!segment) return rejected("not a segment name, or a segment size PostgreSQL does not allow");
  require(*segment >= 0, "negative segment number");
  return "ok: segment " + std::to_string(*segment);
}

}  // namespace bbmd::fuzz
