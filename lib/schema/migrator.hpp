#pragma once
// Applies schema migrations in version order, each in its own transaction (unless marked
// no-transaction), recording version, time, duration and host in the same transaction.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "schema/migration_file.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

// Which record table a migration kind uses.
enum class Kind { pre, post };
[[nodiscard]] const char* records_table(Kind kind) noexcept;
[[nodiscard]] const char* kind_name(Kind kind) noexcept;

struct Applied {
  std::string version;
  double seconds = 0;
};

// Creates the record tables if needed.
boost::asio::awaitable<void> ensure_records(db::Connection& conn);
boost::asio::awaitable<std::set<std::string>> applied_versions(db::Connection& conn, Kind kind);

// Applies every migration in `all` not yet recorded, in order. Throws std::runtime_error naming
// the version and the database error; everything applied before it stays applied.
boost::asio::awaitable<std::vector<Applied>> apply_pending(db::Connection& conn, Kind kind,
                                                           const std::vector<MigrationFile>& all,
                                                           const std::function<void(const std::string&)>& on_start);

// Serialises concurrent `migrate up` runs (a fleet of pods starting at once).
boost::asio::awaitable<void> lock_migrations(db::Connection& conn);
boost::asio::awaitable<void> unlock_migrations(db::Connection& conn);

}  // namespace bbmd::schema
