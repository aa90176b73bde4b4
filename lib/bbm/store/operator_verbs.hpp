#pragma once
// What operators do to migration rows (the CLI's pause/resume/run, the admin API, schema
// migrations that need BBMs), on one connection. Workers go through the Store instead.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "bbm/model/status_codes.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// The migrations a verb applies to: every one, one by name, or one by id.
struct Selection {
  std::optional<std::string> name;
  std::optional<std::int64_t> id;
  static Selection all() { return {}; }
  static Selection named(std::string name) { return {std::move(name), std::nullopt}; }
  static Selection with_id(std::int64_t id) { return {std::nullopt, id}; }
};

// Active and running migrations become paused; returns how many.
boost::asio::awaitable<std::int64_t> pause(db::Connection& conn, const Selection& which);
// Paused migrations become active; returns how many.
boost::asio::awaitable<std::int64_t> resume(db::Connection& conn, const Selection& which);
// Migrations in one of `from` become active with their failure and hold cleared, and their
// failed jobs get a fresh set of attempts; one transaction, the migration rows locked first so a
// worker cannot fail one again mid-reset. Returns how many migrations changed.
boost::asio::awaitable<std::int64_t> retry(db::Connection& conn, const Selection& which,
                                           const std::vector<MigrationStatus>& from);

// Every migration not finished, by id.
boost::asio::awaitable<std::vector<std::int64_t>> unfinished_ids(db::Connection& conn);
boost::asio::awaitable<std::optional<std::int64_t>> id_named(db::Connection& conn, const std::string& name);
boost::asio::awaitable<bool> exists(db::Connection& conn, const Selection& which);
// Every migration's name; empty while the migrations table does not exist yet.
boost::asio::awaitable<std::set<std::string>> migration_names(db::Connection& conn);
// Whether the migrations table exists (schema migrations read it before bbmd's own are applied).
boost::asio::awaitable<bool> migrations_table_exists(db::Connection& conn);

}  // namespace bbmd::bbm
