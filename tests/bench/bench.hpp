#pragma once
// bbmd_bench: figures of the real `bbmd serve` against baselines measured in the same run on the
// same server. Each scenario adds its figures to a Report; main() prints them and sets the exit code.
#include <optional>
#include <string>
#include <vector>

namespace bbmd::bench {

struct Options {
  bool quick = false;  // CI: small sizes, a missed target is printed but does not fail the run
};

// One printed line: `name: value unit (ratio vs baseline)  target: ... [met|MISSED]`.
struct Figure {
  std::string name;
  double value = 0;
  std::string unit;
  std::optional<double> ratio;  // against the scenario's baseline, when it has one
  std::string target;           // empty: informational, no target
  bool met = true;
};

class Report {
 public:
  void add(Figure figure);
  // A run that went wrong (a migration that did not finish, a row changed twice): always fails.
  void error(const std::string& scenario, const std::string& what);
  [[nodiscard]] bool targets_met() const;
  [[nodiscard]] bool has_errors() const { return !errors_.empty(); }
  void print_summary() const;

 private:
  std::vector<Figure> figures_;
  std::vector<std::string> errors_;
};

// The scenarios, in the order the issue lists them (7, reference pacing, reuses 1's timing).
struct BackfillResult {
  double bbmd_seconds = 0;
  long long rows = 0;
  int batch_size = 0;
};
BackfillResult backfill_throughput(const Options& options, Report& report);
void batch_overhead(const Options& options, Report& report);
void parallel_tables(const Options& options, Report& report);
void fleet(const Options& options, Report& report);
void throttle_accuracy(const Options& options, Report& report);
void footprint(const Options& options, Report& report);
void reference_pacing(const BackfillResult& backfill, Report& report);
void pickup_latency(const Options& options, Report& report);
void registry_queue_shape(const Options& options, Report& report);
void batch_thousand(const Options& options, Report& report);
void unprepared(const Options& options, Report& report);
void big_fleet(const Options& options, Report& report);

}  // namespace bbmd::bench
