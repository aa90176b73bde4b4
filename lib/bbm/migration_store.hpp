#pragma once
// Reads and writes batched_background_migrations rows: picking candidates, holds, failures,
// tuple estimates, and the operator verbs (pause, resume, reset for a foreground run).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbm/migration.hpp"
#include "bbm/verdict.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// Active and running migrations that are not held, running before active, then by id.
// A migration held for an unknown work function is offered again to a build that knows it.
boost::asio::awaitable<std::vector<Migration>> runnable_migrations(db::Connection& conn,
                                                                   const std::vector<std::string>& known_functions);

boost::asio::awaitable<std::optional<Migration>> migration_by_id(db::Connection& conn, std::int64_t id);

// Puts a migration on hold until now + interval; true when the hold is new or its code changed.
boost::asio::awaitable<bool> hold_migration(db::Connection& conn, const Migration& m, const Verdict& verdict,
                                            std::chrono::milliseconds interval);
boost::asio::awaitable<void> clear_hold(db::Connection& conn, const Migration& m);
// Fails an active or running migration with a code; false if it was no longer active or running.
boost::asio::awaitable<bool> fail_migration(db::Connection& conn, const Migration& m, const Verdict& verdict);

// Planner estimate of the rows the migration will visit, stored on the row at its first job.
boost::asio::awaitable<std::int64_t> estimate_tuples(db::Connection& conn, const Migration& m, const Target& target);

// Operator verbs; `name` empty = every migration. Return the rows changed.
boost::asio::awaitable<std::int64_t> pause_migrations(db::Connection& conn, const std::string& name);
boost::asio::awaitable<std::int64_t> resume_migrations(db::Connection& conn, const std::string& name);
// For `background-migrate run`: failed and paused migrations become active again and their
// failed jobs get a fresh set of attempts. Returns the ids of every unfinished migration.
boost::asio::awaitable<std::vector<std::int64_t>> reset_unfinished(db::Connection& conn);
boost::asio::awaitable<bool> migration_name_exists(db::Connection& conn, const std::string& name);

}  // namespace bbmd::bbm
