#pragma once
// What happens to a job after a statement timeout: its next attempt uses half the sub-batch;
// once it has no attempts left (or has no sub-batches), it is split in two halves that start
// over. Each split halves the key span, so a batch that can never succeed still ends: at one key
// it can no longer split, runs out of attempts, and fails the migration with code 4.
#include <boost/asio/awaitable.hpp>
#include <string>

#include "bbm/migration.hpp"

namespace bbmd::db {
class Connection;
}

namespace bbmd::bbm {

// The job has just been recorded as failed. Returns what was done, for the log ("" if nothing).
boost::asio::awaitable<std::string> shrink_or_split(db::Connection& conn, const Migration& m, const Job& job,
                                                    int max_attempts);

}  // namespace bbmd::bbm
