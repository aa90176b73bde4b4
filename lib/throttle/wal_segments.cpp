// WAL file names -> segment numbers, and the archive backlog they imply.
#include "throttle/wal_segments.hpp"

#include <algorithm>
#include <charconv>

namespace bbmd::throttle {
namespace {

// A WAL file name is timeline, "log" and "seg" as 8 hex digits each (xlog_internal.h).
constexpr std::size_t kHexField = 8;
constexpr std::size_t kWalFileNameLen = 3 * kHexField;
// One "log" spans 4 GiB of LSN space (XLogSegmentsPerXLogId = 0x100000000 / segment size).
constexpr std::int64_t kBytesPerLogId = 0x100000000LL;

std::optional<std::int64_t> hex_field(std::string_view s) {
  std::uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (ec != std::errc{} || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// PostgreSQL allows powers of two from 1 MB to 1 GB (initdb --wal-segsize). Smaller sizes would
// also overflow the segment number (a log id of 2^32 - 1 times 2^32 / size).
constexpr std::int64_t kMinSegmentSize = 1LL << 20;
constexpr std::int64_t kMaxSegmentSize = 1LL << 30;

bool valid_segment_size(std::int64_t size) {
  return size >= kMinSegmentSize && size <= kMaxSegmentSize && (size & (size - 1)) == 0;
}

}  // namespace

std::optional<std::int64_t> segment_of_walfile(std::string_view name, std::int64_t segment_size) {
  if (!valid_segment_size(segment_size)) return std::nullopt;
  if (name.size() < kWalFileNameLen || (name.size() > kWalFileNameLen && name[kWalFileNameLen] != '.')) {
    return std::nullopt;
  }
  const auto tli = hex_field(name.substr(0, kHexField));
  const auto log = hex_field(name.substr(kHexField, kHexField));
  const auto seg = hex_field(name.substr(2 * kHexField, kHexField));
  if (!tli || !log || !seg) return std::nullopt;
  return *log * (kBytesPerLogId / segment_size) + *seg;
}

std::int64_t archive_backlog(const ArchiverState& s) {
  if (!valid_segment_size(s.segment_size)) return 0;
  const std::int64_t current = s.current_lsn / s.segment_size;
  if (s.last_archived_segment) return std::max<std::int64_t>(0, current - *s.last_archived_segment - 1);
  if (s.last_failed_segment) return std::max<std::int64_t>(0, current - *s.last_failed_segment);
  return 0;
}

}  // namespace bbmd::throttle
