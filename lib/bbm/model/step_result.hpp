#pragma once
// What one job's step did: the value the runner returns, next_step() decides on, and the
// reporter turns into logs and metrics.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bbm/model/bbm.hpp"
#include "bbm/model/verdict.hpp"
#include "throttle/indicator.hpp"

namespace bbmd::bbm {

// The job a step ran, and how it ended.
struct JobRun {
  Job job;
  // finished, failed, lease_lost, canceled (for shutdown) or connection_lost: the job metric's label.
  std::string outcome;
  double seconds = 0;
  std::int64_t rows = 0;
  std::vector<double> sub_batch_seconds;
  std::string error;
  FailureCode code = FailureCode::unknown;
  std::string timeout_action;  // after a statement timeout: the shrink or split done
};

struct StepResult {
  enum class Kind {
    job_finished,     // a batch committed
    job_failed,       // a batch failed and was recorded (attempt counted)
    job_abandoned,    // lease lost, or released for shutdown
    connection_lost,  // the connection broke mid-job: nothing could be recorded, the lease expires
    migration_finished,
    migration_failed,
    held,
    busy,  // other workers hold the remaining jobs
    gone,  // not active or running any more
  } kind = Kind::gone;
  std::string reason;                        // for held / migration_failed / job_failed
  std::chrono::milliseconds retry_after{0};  // held for a known pause (WAL-rate pacing): this long
  std::optional<Job> chained;                // the next job, leased by this job's commit
  bool finished_migration = false;           // this job's commit found nothing left and finished it
  bool fleet_full = false;                   // busy: the whole fleet is at its cap, no migration can lease
  // When the job was leased (or, leased ahead, began): the job interval counts from here.
  std::optional<std::chrono::steady_clock::time_point> job_started;

  // What happened on the way, in order, for the reporter.
  bool hold_cleared = false;              // a hold from an earlier step ended
  std::optional<Verdict> verdict;         // validation held or failed the migration
  bool verdict_is_news = false;           // a new (or changed) hold, or the migration failed just now
  std::optional<throttle::Stop> throttled;
  std::chrono::milliseconds throttle_hold{0};
  std::vector<double> batching_query_seconds;  // the lease's range scan, and the lookahead the chain took
  bool started = false;                       // the migration's first job: its tuple estimate was taken
  std::optional<std::int64_t> tuple_estimate;
  std::string estimate_error;
  std::int64_t exhausted_job_id = 0;  // migration_failed by a job out of attempts
  std::optional<JobRun> job;

  static StepResult of(Kind kind, std::string reason = {}) {
    StepResult r;
    r.kind = kind;
    r.reason = std::move(reason);
    return r;
  }
  [[nodiscard]] bool ran_job() const noexcept { return job.has_value(); }
};

}  // namespace bbmd::bbm
