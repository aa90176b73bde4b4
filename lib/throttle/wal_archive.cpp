// Indicator: completed WAL segments waiting for archive_command (pg_stat_archiver + current LSN).
#include <stdexcept>
#include <string>

#include "db/connection.hpp"
#include "throttle/indicators.hpp"
#include "throttle/reasons.hpp"
#include "throttle/wal_segments.hpp"

namespace bbmd::throttle {
namespace {

// One round trip. The segment size comes from pg_settings, whose unit for it is bytes ('B')
// since PostgreSQL 11 made it an initdb option (--wal-segsize); assuming 16 MB is the
// reference's bug. archive_mode 'off' means nothing is ever archived, so there is no backlog.
constexpr const char* kSql = R"sql(
SELECT current_setting('archive_mode') AS archive_mode,
       s.setting::bigint AS segment_size, s.unit AS segment_unit,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS current_lsn,
       a.last_archived_wal, a.last_failed_wal
FROM pg_stat_archiver a, pg_settings s
WHERE s.name = 'wal_segment_size')sql";

class WalArchive final : public Indicator {
 public:
  explicit WalArchive(std::int64_t max_segments) : max_segments_(max_segments) {}

  [[nodiscard]] std::string_view name() const override { return reasons::kWalArchiveBacklog; }

  boost::asio::awaitable<std::optional<Stop>> check(db::Connection& conn, const Context&) override {
    const auto r = co_await conn.query("throttle_wal_archive", kSql);
    if (r.get_string(0, "archive_mode") == "off") co_return std::nullopt;
    if (r.get_string(0, "segment_unit") != "B") {
      throw std::runtime_error("wal_segment_size has unit '" + r.get_string(0, "segment_unit") + "', expected 'B'");
    }
    ArchiverState s;
    s.segment_size = r.get_int(0, "segment_size");
    s.current_lsn = r.get_int(0, "current_lsn");
    if (auto f = r.opt_string(0, "last_archived_wal")) s.last_archived_segment = segment_of_walfile(*f, s.segment_size);
    if (auto f = r.opt_string(0, "last_failed_wal")) s.last_failed_segment = segment_of_walfile(*f, s.segment_size);
    const auto backlog = archive_backlog(s);
    if (backlog <= max_segments_) co_return std::nullopt;
    co_return Stop{std::string(name()), std::to_string(backlog) + " WAL segments of " +
                                            std::to_string(s.segment_size / kMiB) + " MB wait for archiving (limit " +
                                            std::to_string(max_segments_) + ")"};
  }

 private:
  static constexpr std::int64_t kMiB = 1024 * 1024;
  std::int64_t max_segments_;
};

}  // namespace

std::unique_ptr<Indicator> make_wal_archive(std::int64_t max_segments) {
  return std::make_unique<WalArchive>(max_segments);
}

}  // namespace bbmd::throttle
