#pragma once
// WAL segment arithmetic for the archive backlog, with the server's real segment size.
#include <cstdint>
#include <optional>
#include <string_view>

namespace bbmd::throttle {

// The segment number of a WAL file name ("000000010000000A000000FF", optionally followed by
// ".partial" or ".<offset>.backup"), as PostgreSQL's XLogFromFileName computes it; nullopt for
// names that are not a segment (timeline ".history" files) or a segment size PostgreSQL does
// not allow (a power of two from 1 MB to 1 GB).
[[nodiscard]] std::optional<std::int64_t> segment_of_walfile(std::string_view name, std::int64_t segment_size);

// What pg_stat_archiver and the current WAL position tell about archiving.
struct ArchiverState {
  std::int64_t current_lsn = 0;  // pg_current_wal_lsn() in bytes
  std::int64_t segment_size = 0;
  std::optional<std::int64_t> last_archived_segment;
  std::optional<std::int64_t> last_failed_segment;
};

// Completed segments not yet archived. The segment holding current_lsn is still being written,
// so it does not count. Archiving goes strictly in order, so:
//   - after a success: everything between the last archived segment and the current one;
//   - never archived but a failure seen: the archiver is stuck on that segment since the start
//     (or since stats were reset), so it and everything after it up to the current one;
//   - neither: the archiver has not been asked for a segment yet, so 0.
[[nodiscard]] std::int64_t archive_backlog(const ArchiverState& s);

}  // namespace bbmd::throttle
