#pragma once
// Applies or reverts one schema migration: in its own transaction together with its record
// (unless marked no-transaction), noting which BBMs it queued. A failed post-deployment
// migration is recorded as failed so that later runs do not retry it blindly.
#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "schema/migration_set.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::schema {

struct ApplyResult {
  double seconds = 0;
  std::vector<std::string> queued_bbms;  // BBM rows that appeared while it ran
};

// A migration's SQL failed. The message names the file and carries the database error.
class MigrationFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws MigrationFailed. In a transaction, nothing of the migration stays behind; a
// no-transaction migration runs statement by statement and keeps what succeeded before the
// failing one (the message says so).
boost::asio::awaitable<ApplyResult> apply_one(db::Connection& conn, const Known& migration);

// Runs the down SQL and deletes the record, in one transaction unless no-transaction.
// Throws MigrationFailed.
boost::asio::awaitable<double> revert_one(db::Connection& conn, const Known& migration);

}  // namespace bbmd::schema
