#pragma once
// The one decision after each step, pure: whether the runner stays on the migration for its next
// job (the one its commit leased ahead: the only way to stay), and what the step
// counts as for the worker's pass: worked (go on at once, or after the job interval), idle (try
// the next migration, then back off), error (back off) or fleet_full (the pass ends: no other
// migration could lease either; back off the longest), with any known pause to sleep instead.
#include <chrono>
#include <optional>

#include "bbm/run/backoff.hpp"
#include "bbm/model/step_result.hpp"

namespace bbmd::bbm {

struct StayContext {
  bool window_open = false;  // the streak on this migration is younger than its limit (stay_for)
  bool stopping = false;     // shutdown began
  bool paced = false;        // a job interval is set: each job is a pass of its own, spaced by the backoff
};

struct NextStep {
  bool stay = false;
  PassOutcome outcome = PassOutcome::idle;
  std::optional<std::chrono::milliseconds> pause;  // the migration is held for exactly this long
};

// Whether a job about to run should lease the next one in its commit: only when the runner may
// stay to run it.
[[nodiscard]] bool may_chain(const StayContext& context) noexcept;

[[nodiscard]] NextStep next_step(const StepResult& result, const StayContext& context) noexcept;

}  // namespace bbmd::bbm
