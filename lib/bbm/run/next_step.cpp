// The decision after each step (see next_step.hpp).
#include "bbm/run/next_step.hpp"

namespace bbmd::bbm {

namespace {

PassOutcome outcome_of(StepResult::Kind kind) noexcept {
  switch (kind) {
    case StepResult::Kind::job_failed:
    case StepResult::Kind::connection_lost: return PassOutcome::error;
    case StepResult::Kind::job_finished:
    case StepResult::Kind::job_abandoned:
    case StepResult::Kind::migration_finished:
    case StepResult::Kind::migration_failed: return PassOutcome::worked;
    case StepResult::Kind::held:
    case StepResult::Kind::busy:
    case StepResult::Kind::gone: return PassOutcome::idle;
  }
  return PassOutcome::idle;
}

}  // namespace

bool may_chain(const StayContext& context) noexcept {
  return context.window_open && !context.stopping && !context.paced;
}

NextStep next_step(const StepResult& result, const StayContext& context) noexcept {
  NextStep next;
  next.outcome = result.kind == StepResult::Kind::busy && result.fleet_full ? PassOutcome::fleet_full
                                                                            : outcome_of(result.kind);
  if (result.retry_after.count() > 0) next.pause = result.retry_after;
  // The streak goes on with the job the commit leased ahead (asked for only while may_chain()
  // allowed it), even once the window has closed: it is ours already. With none, the worker lists
  // again, and sees other migrations and operators' edits.
  next.stay = result.kind == StepResult::Kind::job_finished && result.chained.has_value() && !context.stopping;
  return next;
}

}  // namespace bbmd::bbm
