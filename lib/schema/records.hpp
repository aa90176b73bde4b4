#pragma once
// The two record tables (bbmd_schema_migrations for pre-deployment and bbmd's own migrations,
// bbmd_post_deploy_schema_migrations for post-deployment ones; never the registry's
// schema_migrations and post_deploy_schema_migrations): one row per migration that was
// applied, marked as applied, or failed (post-deployment only), with when, how long, which host.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "schema/migration_set.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

[[nodiscard]] const char* records_table(Kind kind) noexcept;

struct Record {
  std::string version;
  bool post = false;                   // which table it lives in
  bool failed = false;                 // a failed post-deployment migration awaiting an operator
  std::optional<std::string> applied_at;
  std::optional<std::int64_t> duration_ms;
  std::string host;                    // that applied it, or ran the failed attempt
  std::vector<std::string> queued_bbms;  // BBM rows that appeared while it ran
  std::optional<std::string> failed_at;
  std::optional<std::string> error;
  std::int64_t attempts = 0;           // failed attempts so far
  std::optional<std::string> marked_reason;  // set by `migrate mark-applied`
};

struct Records {
  std::map<std::string, Record> by_version;  // both tables
  [[nodiscard]] const Record* find(const std::string& version) const;
  [[nodiscard]] bool applied(const std::string& version) const;
  [[nodiscard]] bool empty() const noexcept { return by_version.empty(); }
};

// The host name recorded with every row.
[[nodiscard]] std::string this_host();

boost::asio::awaitable<void> ensure_records(db::Connection& conn);
// Both tables; empty when they do not exist yet (read-only commands create nothing).
boost::asio::awaitable<Records> read_records(db::Connection& conn);

boost::asio::awaitable<void> record_applied(db::Connection& conn, Kind kind, const std::string& version,
                                            std::int64_t duration_ms, const std::vector<std::string>& queued_bbms);
boost::asio::awaitable<void> record_marked(db::Connection& conn, Kind kind, const std::string& version,
                                           const std::string& reason);
boost::asio::awaitable<void> record_failure(db::Connection& conn, Kind kind, const std::string& version,
                                            const std::string& error);
boost::asio::awaitable<void> delete_record(db::Connection& conn, Kind kind, const std::string& version);

}  // namespace bbmd::schema
