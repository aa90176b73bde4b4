// bbmd_bench: runs the scenarios in order and prints each figure as it is measured.
// --quick: small sizes for CI (keeps the program working; a missed target does not fail it).
// --only N: runs scenario N alone (for profiling one figure; 7 needs 1 and runs with it).
// Exit 1 on an error (a migration that did not finish, a row changed twice) and, in the full
// mode, on a missed target; 2 on a usage error.
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <string>

#include "bench/bench.hpp"

namespace {

using bbmd::bench::Options;
using bbmd::bench::Report;

int only = 0;  // 0: every scenario
constexpr int kLastScenario = 12;

void run_scenario(const std::string& name, Report& report, const std::function<void()>& body) {
  if (only != 0 && name.rfind(std::to_string(only) + ".", 0) != 0 && !(only == 1 && name[0] == '7')) return;
  std::cout << "\n== " << name << std::endl;
  try {
    body();
  } catch (const std::exception& e) {
    report.error(name, e.what());
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      options.quick = true;
    } else if (arg == "--only" && i + 1 < argc && std::atoi(argv[i + 1]) >= 1 && std::atoi(argv[i + 1]) <= kLastScenario) {
      only = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: " << argv[0] << " [--quick] [--only 1.." << kLastScenario << "]\n";
      return 2;
    }
  }
  using namespace bbmd::bench;
  Report report;
  BackfillResult backfill;
  bool backfill_ran = false;
  run_scenario("1. backfill throughput", report, [&] {
    backfill = backfill_throughput(options, report);
    backfill_ran = true;
  });
  run_scenario("2. per-batch overhead", report, [&] { batch_overhead(options, report); });
  run_scenario("3. parallel tables", report, [&] { parallel_tables(options, report); });
  run_scenario("4. fleet", report, [&] { fleet(options, report); });
  run_scenario("5. throttle accuracy", report, [&] { throttle_accuracy(options, report); });
  run_scenario("6. footprint", report, [&] { footprint(options, report); });
  if (backfill_ran) run_scenario("7. reference pacing", report, [&] { reference_pacing(backfill, report); });
  run_scenario("8. operator edits: pickup latency", report, [&] { pickup_latency(options, report); });
  run_scenario("9. registry queue shape", report, [&] { registry_queue_shape(options, report); });
  run_scenario("10. per-job cost at batch 1000", report, [&] { batch_thousand(options, report); });
  run_scenario("11. without prepared statements", report, [&] { unprepared(options, report); });
  run_scenario("12. fleet of 8 processes on 16 tables", report, [&] { big_fleet(options, report); });

  report.print_summary();
  if (report.has_errors()) return 1;
  if (!options.quick && !report.targets_met()) return 1;
  if (options.quick && !report.targets_met()) std::cout << "(quick mode: sizes too small for the figures to mean anything; missed targets do not fail it)" << std::endl;
  return 0;
}
