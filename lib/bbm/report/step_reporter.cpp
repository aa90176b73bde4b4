// Logs and metrics of step outcomes (see step_reporter.hpp).
#include "bbm/report/step_reporter.hpp"

#include <algorithm>

#include "metrics/metrics.hpp"

namespace bbmd::bbm {

namespace {

log::Fields migration_fields(const Bbm& m) { return {{log::kBbmId, m.id}, {log::kBbmName, m.name}}; }

log::Fields job_fields(const Bbm& m, const Job& job) {
  auto f = migration_fields(m);
  f[log::kJobId] = job.id;
  f[log::kJobStartId] = job.min_value;
  f[log::kJobEndId] = job.max_value;
  f[log::kJobBatchSize] = job.batch_size;
  f[log::kJobAttempts] = job.attempts;
  return f;
}

metrics::MigrationLabels labels(const Bbm& m) { return {m.id, m.name}; }

}  // namespace

void StepReporter::report(const Bbm& m, const StepResult& r) const {
  if (r.verdict) report_verdict(m, r);
  if (r.throttled) report_throttle(m, r);
  if (r.hold_cleared) {
    metrics_.held(labels(m), "", false);
    logger_.info("migration no longer held", migration_fields(m));
  }
  for (const double s : r.batching_query_seconds) metrics_.batching_query(labels(m), s);
  report_settled(m, r);
  if (r.job && r.job->job.takeover) {
    metrics_.lease_takeover(labels(m));
    logger_.warn("took over an expired lease", job_fields(m, r.job->job));
  }
  if (r.started) report_start(m, r);
  if (r.job) report_job(m, *r.job);
}

void StepReporter::report_verdict(const Bbm& m, const StepResult& r) const {
  if (!r.verdict_is_news) return;
  auto f = migration_fields(m);
  f[log::kReason] = r.verdict->reason;
  if (r.verdict->kind == Verdict::Kind::hold) {
    metrics_.held(labels(m), r.verdict->hold_code, true);
    f["hold_code"] = r.verdict->hold_code;
    logger_.warn("background migration held", f);
    return;
  }
  metrics_.migration_state(labels(m), "failed");
  f[log::kErrorCode] = static_cast<int>(r.verdict->code);
  logger_.error("background migration failed validation", f);
}

void StepReporter::report_throttle(const Bbm& m, const StepResult& r) const {
  const auto hold_s = static_cast<double>(r.throttle_hold.count()) / 1000.0;
  metrics_.held(labels(m), r.throttled->reason, true);
  metrics_.throttled(r.throttled->reason, hold_s);
  auto f = migration_fields(m);
  f[log::kReason] = r.throttled->reason;
  f["detail"] = r.throttled->detail;
  f["hold_s"] = hold_s;
  logger_.warn("background migration throttled", f);
}

// The migration's end, when this step's lease found no job left.
void StepReporter::report_settled(const Bbm& m, const StepResult& r) const {
  if (r.kind == StepResult::Kind::migration_finished) {
    metrics_.migration_state(labels(m), "finished");
    metrics_.progress(labels(m), 100.0);
    logger_.info("background migration finished", migration_fields(m));
  } else if (r.kind == StepResult::Kind::migration_failed && r.exhausted_job_id != 0) {
    metrics_.migration_state(labels(m), "failed");
    auto f = migration_fields(m);
    f[log::kErrorCode] = static_cast<int>(FailureCode::max_job_retry);
    f[log::kJobId] = r.exhausted_job_id;
    logger_.error("background migration failed: a job ran out of attempts", f);
  }
}

void StepReporter::report_start(const Bbm& m, const StepResult& r) const {
  metrics_.migration_state(labels(m), "running");
  auto f = migration_fields(m);
  if (r.tuple_estimate) {
    f["total_tuple_count"] = *r.tuple_estimate;
    logger_.info("background migration started", f);
  } else {
    f[log::kError] = r.estimate_error;
    logger_.warn("could not estimate the migration's tuple count", f);
  }
}

void StepReporter::report_job(const Bbm& m, const JobRun& run) const {
  for (const double s : run.sub_batch_seconds) metrics_.sub_batch(labels(m), s);
  const auto rows = run.outcome == "finished" ? run.rows : 0;
  metrics_.job_finished(labels(m), run.outcome, run.seconds, run.job.batch_size, rows);
  auto f = job_fields(m, run.job);
  f[log::kDurationS] = run.seconds;
  if (run.outcome == "finished") {
    // Between the collector's exact refreshes, the committed job's upper key is a free estimate.
    const double span = static_cast<double>(m.max_value) - static_cast<double>(m.min_value) + 1;
    const double done = static_cast<double>(run.job.max_value) - static_cast<double>(m.min_value) + 1;
    if (span > 0) metrics_.progress(labels(m), std::min(99.9, 100.0 * done / span));
    f[log::kRows] = run.rows;
    logger_.info("job finished", f);
    return;
  }
  if (run.outcome == "lease_lost") {
    logger_.warn("lease lost before commit; batch not applied", f);
    return;
  }
  f[log::kError] = run.error;
  if (run.outcome == "connection_lost") {
    logger_.error("connection lost during job; its lease will expire", f);
  } else if (run.outcome == "canceled") {
    logger_.warn("job canceled for shutdown; lease released", f);
  } else {
    f[log::kErrorCode] = static_cast<int>(run.code);
    if (!run.timeout_action.empty()) f["timeout_action"] = run.timeout_action;
    logger_.error("job failed", f);
  }
}

}  // namespace bbmd::bbm
