#pragma once
// The reliability suite: scenarios that inject faults and bad input into real bbmd processes on a
// real PostgreSQL, count what happened, and end with one summary table.
//
// A scenario is a function registered from its own file:
//
//   BBMD_RELIABILITY_SCENARIO(crash_loop, 10) (const Options& opt, Tally& tally) { ... }
//
// It adds to the tally what it injected and what it observed. The suite fails when any of
// rows_lost, rows_changed_twice, crashes or hangs is not zero, or when a scenario records a
// failure (an outcome that differs from the one it asserts).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bbmd::reliability {

struct Options {
  bool quick = false;         // the bounded form CI runs
  std::uint64_t seed = 1;     // base seed; scenarios print the seeds they derive from it
  double scale = 1.0;         // > 1 runs longer by hand (more kills, rows, migrations)
};

struct Tally {
  long faults_injected = 0;
  long faults_survived = 0;
  long bad_inputs = 0;
  long rows_lost = 0;
  long rows_changed_twice = 0;
  long crashes = 0;  // a bbmd process that died of a signal nobody sent, or a sanitizer report
  long hangs = 0;    // a process or migration that did not end within its deadline
  std::vector<std::string> failures;  // "scenario: what differed from the expected outcome"

  void fail(const std::string& what) { failures.push_back(what); }
  // Records a mismatch when `ok` is false; returns `ok`.
  bool expect(bool ok, const std::string& what) {
    if (!ok) fail(what);
    return ok;
  }
};

using ScenarioFn = std::function<void(const Options&, Tally&)>;

struct Scenario {
  std::string name;
  int order;  // scenarios run in ascending order
  ScenarioFn run;
};

bool register_scenario(Scenario scenario);
const std::vector<Scenario>& scenarios();

}  // namespace bbmd::reliability

#define BBMD_RELIABILITY_SCENARIO(name, order)                                                    \
  static void reliability_##name(const ::bbmd::reliability::Options&, ::bbmd::reliability::Tally&); \
  [[maybe_unused]] static const bool registered_##name =                                          \
      ::bbmd::reliability::register_scenario({#name, order, reliability_##name});                 \
  static void reliability_##name
