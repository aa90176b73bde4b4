#pragma once
// Leasing: turns a migration's next unit of work into a job row this worker owns, fenced by a
// fresh token and bounded by an expiry. Leases for one migration are serialised by a short row
// lock on the migration; there is no global lock, so workers on other migrations never wait.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbm/batching.hpp"
#include "bbm/migration.hpp"

namespace bbmd::db {
class Connection;
class Result;
struct Statement;
}

namespace bbmd::bbm {

struct LeaseOptions {
  std::string owner;                  // host/pid/worker, for operators
  std::chrono::milliseconds duration; // after this a vanished worker's job can be taken over
  int max_attempts = 3;               // maxjobretries
  int max_jobs_per_table = 1;         // running jobs on one table, fleet-wide
  int max_running_jobs = 0;           // running jobs in the fleet (0: no cap)
};

struct LeaseOutcome {
  enum class Kind {
    leased,    // `job` is ours
    busy,      // work remains but other workers hold it
    finished,  // this call marked the migration finished
    failed,    // this call failed the migration (max_job_retry)
    gone,      // no longer active or running (paused, finished or failed meanwhile)
  } kind = Kind::gone;
  Job job;
  bool first_job = false;  // the migration just went from active to running
  std::int64_t exhausted_job_id = 0;  // for failed: the job that ran out of attempts
  std::optional<double> range_query_seconds;  // how long cutting a new range took, if one was cut
};

// One short transaction: takes over an expired job, else cuts the next range of `batch_size`
// rows, else retries a failed job, else settles the migration as finished or failed. Busy when
// the table or the fleet already runs as many jobs as the options allow.
boost::asio::awaitable<LeaseOutcome> lease_next_job(db::Connection& conn, const Migration& m, const Target& target,
                                                    std::int64_t batch_size, const LeaseOptions& options);

// The next lease, chained to a batch: statements to run in the batch's transaction after its
// bookkeeping and before its COMMIT, so that a worker going from job to job needs no lease
// transaction of its own. They cut the next range as lease_next_job would, but only if the
// migration row and the lease locks are free at once (a batch never waits on a lease), and
// never take over, retry or settle: no job then means the next step leases as usual.
// `lookahead` (range_prefetch.hpp), if given, is taken as the range when it starts at the cursor
// and ends within the migration's bounds, sparing the range scan; otherwise the lease scans.
std::vector<db::Statement> chained_lease(const Migration& m, const Target& target, std::int64_t batch_size,
                                        const LeaseOptions& options,
                                        const std::optional<KeyRange>& lookahead = std::nullopt);
// The job the chained lease cut, from the result of its last statement; nullopt if none.
std::optional<Job> chained_job(const db::Result& cut);

// Gives a lease back without counting the attempt (graceful shutdown, or a chained lease the
// worker will not run now): the job can be taken at once, and is not logged as a takeover.
boost::asio::awaitable<void> release_lease(db::Connection& conn, const Job& job);

}  // namespace bbmd::bbm
