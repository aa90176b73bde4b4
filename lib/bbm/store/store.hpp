#pragma once
// The store: every statement the runner and the worker make on the two BBM tables, behind one
// small interface. PgStore (pg_store.hpp) runs them on a PostgreSQL connection; tests drive the
// runner's decisions with a fake. Operator verbs, progress and readiness, which people and
// probes use rather than workers, are plain functions beside it (operator_verbs.hpp,
// progress_query.hpp, readiness_check.hpp).
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"

namespace bbmd::bbm {

class RangeLookahead;

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
  bool fleet_full = false;  // busy: the whole fleet runs maxrunningjobs jobs, so no migration can lease
  std::int64_t exhausted_job_id = 0;  // for failed: the job that ran out of attempts
  std::optional<double> range_query_seconds;  // how long cutting a new range took, if one was cut
};

struct BatchOptions {
  std::chrono::milliseconds statement_timeout{60000};
  std::chrono::milliseconds lock_timeout{5000};
  // Count the sessions waiting on this batch's locks just before it commits (lock-waiter throttle).
  bool count_lock_waiters = false;
};

// Asks a batch's commit to lease the next job of its migration as well (the chained lease), so
// a worker going from job to job needs no lease transaction of its own (asked only for a job that
// is not the migration's last range, so the next key is a bigint). It cuts the next range
// as lease() would, but only if the migration row is free at that instant (a batch never waits on
// a lease; it needs no lease lock, as it replaces its own job), and never takes over or retries.
struct ChainRequest {
  std::int64_t batch_size = 0;
  LeaseOptions lease;
  // A lookup of the next range's end that ran beside the batch; its answer, if it has one for
  // this range, spares the lease its range scan.
  const RangeLookahead* lookahead = nullptr;
};

struct BatchOutcome {
  enum class Kind { committed, lease_lost } kind = Kind::committed;
  std::int64_t rows = 0;
  double seconds = 0;
  std::int64_t lock_waiters = 0;  // sessions blocked by this batch's locks at commit time
  std::vector<double> sub_batch_seconds;
  std::optional<Job> chained;               // the next job, leased by this batch's commit
  // The commit found no key left to cut and no job unfinished, and finished the migration.
  bool finished_migration = false;
  std::optional<double> lookahead_seconds;  // the lookahead's query time, when the chained lease used it
};

class Store {
 public:
  virtual ~Store() = default;

  // Active and running migrations that are not held, running before active, then by id. A
  // migration held for an unknown work function is offered again to a build that knows it. Not
  // those whose leases could only find them busy: at `caps`' running jobs per table, or all of
  // them while the fleet is at its cap.
  virtual boost::asio::awaitable<std::vector<Bbm>> runnable(const std::vector<std::string>& known_functions,
                                                            const LeaseOptions& caps) = 0;
  virtual boost::asio::awaitable<std::optional<Bbm>> find(std::int64_t id) = 0;

  // Puts a migration on hold until now + interval; true when the hold is new or its code changed.
  virtual boost::asio::awaitable<bool> hold(const Bbm& m, const Verdict& verdict,
                                            std::chrono::milliseconds interval) = 0;
  virtual boost::asio::awaitable<void> clear_hold(const Bbm& m) = 0;
  // Fails an active or running migration with a code; false if it was no longer active or running.
  virtual boost::asio::awaitable<bool> fail(const Bbm& m, const Verdict& verdict) = 0;
  // Planner estimate of the rows the migration will visit, stored on the row.
  virtual boost::asio::awaitable<std::int64_t> estimate_tuples(const Bbm& m, const Target& target) = 0;

  // One short transaction: takes over an expired job, else cuts the next range of `batch_size`
  // rows, else retries a failed job, else settles the migration as finished or failed. Busy when
  // the table or the fleet already runs as many jobs as the options allow.
  virtual boost::asio::awaitable<LeaseOutcome> lease(const Bbm& m, const Target& target, std::int64_t batch_size,
                                                     const LeaseOptions& options) = 0;
  // The job's data change and its bookkeeping in one transaction, after checking its fencing
  // token under a row lock; with `chain`, the next lease in the same commit. Throws db::Error
  // when the work fails: the transaction is then rolled back and nothing changed.
  virtual boost::asio::awaitable<BatchOutcome> run_batch(const Bbm& m, const Target& target, const Job& job,
                                                         const BatchOptions& options, const ChainRequest* chain) = 0;
  // Records a failed attempt after the rollback. Fenced like the commit.
  virtual boost::asio::awaitable<void> record_failure(const Job& job, FailureCode code, const std::string& error) = 0;
  // After a statement timeout: the job's next attempt uses half the sub-batch; with no attempts
  // left (or no sub-batches) it is split in two halves that start over. Each split halves the
  // key span (by limit: its batch size), so a batch that can never succeed still ends: at one
  // key (row) it can no longer split, runs out of attempts, and fails the migration. Returns what
  // was done ("" if nothing).
  virtual boost::asio::awaitable<std::string> shrink_or_split(const Bbm& m, const Target& target, const Job& job,
                                                              int max_attempts) = 0;
  // Gives a lease back without counting the attempt (shutdown, or a chained job the worker will
  // not run now): it can be taken at once, and is not logged as a takeover.
  virtual boost::asio::awaitable<void> release(const Job& job) = 0;
};

}  // namespace bbmd::bbm
