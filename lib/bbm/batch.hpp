#pragma once
// Runs one leased job: the data change and the job's bookkeeping commit in one transaction on
// one connection, after checking the lease's fencing token under a row lock.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bbm/migration.hpp"
#include "db/result.hpp"

namespace bbmd::db {
class Connection;
struct Statement;
}

namespace bbmd::bbm {

struct BatchOptions {
  std::chrono::milliseconds statement_timeout{60000};
  std::chrono::milliseconds lock_timeout{5000};
  // Count the sessions waiting on this batch's locks just before it commits (lock-waiter throttle).
  bool count_lock_waiters = false;
  // Called with each sub-batch's duration (metrics).
  std::function<void(double seconds)> on_sub_batch;
};

struct BatchOutcome {
  enum class Kind { committed, lease_lost } kind = Kind::committed;
  std::int64_t rows = 0;
  double seconds = 0;
  std::int64_t lock_waiters = 0;  // sessions blocked by this batch's locks at commit time
  std::optional<db::Result> in_commit;  // the last `in_commit` statement's result, if any ran
};

// Statements to run after a batch's bookkeeping, in the same transaction and round trip (the
// chained lease). Built once the work is done, so they can use what was learned meanwhile.
using InCommit = std::function<std::vector<db::Statement>()>;

// Throws db::Error when the work fails; the transaction is then rolled back and nothing changed.
// The `in_commit` statements' failure fails the batch like any other.
boost::asio::awaitable<BatchOutcome> run_batch(db::Connection& conn, const Migration& m, const Target& target,
                                               const Job& job, const BatchOptions& options,
                                               const InCommit& in_commit = {});

// Records a failed attempt (in its own statement, after the rollback). Fenced like the commit.
boost::asio::awaitable<void> record_job_failure(db::Connection& conn, const Job& job, FailureCode code,
                                                const std::string& error);

}  // namespace bbmd::bbm
