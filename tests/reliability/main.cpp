// bbmd_reliability: runs every registered scenario (or those named with --only) and prints the
// summary table. Exit 0 only if nothing was lost, changed twice, crashed or hung, and every
// scenario saw the outcome it asserts.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "reliability/suite.hpp"

namespace bbmd::reliability {

namespace {
std::vector<Scenario>& registry() {
  static std::vector<Scenario> all;
  return all;
}

int usage(const char* argv0) {
  std::cerr << "usage: " << argv0 << " [--quick] [--seed N] [--scale X] [--only NAME]... [--list]\n";
  return 2;
}

// Faults one scenario injected and saw survived: a row of its own under the totals.
struct ScenarioFaults {
  std::string name;
  long injected;
  long survived;
};

void print_summary(const Tally& t, const std::vector<ScenarioFaults>& per_scenario) {
  std::printf("\n%-22s %10s\n", "reliability summary", "count");
  auto row = [](const char* name, long value, bool must_be_zero) {
    std::printf("%-22s %10ld%s\n", name, value, must_be_zero && value != 0 ? "   <-- must be 0" : "");
  };
  row("faults injected", t.faults_injected, false);
  row("faults survived", t.faults_survived, false);
  for (const auto& s : per_scenario) {
    if (s.injected == 0) continue;
    const std::string counts = std::to_string(s.survived) + "/" + std::to_string(s.injected);
    std::printf("  %-20s %10s survived\n", s.name.c_str(), counts.c_str());
  }
  row("bad inputs tried", t.bad_inputs, false);
  row("rows lost", t.rows_lost, true);
  row("rows changed twice", t.rows_changed_twice, true);
  row("crashes", t.crashes, true);
  row("hangs", t.hangs, true);
  row("failed expectations", static_cast<long>(t.failures.size()), true);
  for (const auto& f : t.failures) std::printf("  FAILED: %s\n", f.c_str());
}
}  // namespace

bool register_scenario(Scenario scenario) {
  registry().push_back(std::move(scenario));
  return true;
}

const std::vector<Scenario>& scenarios() { return registry(); }

}  // namespace bbmd::reliability

int main(int argc, char** argv) {
  using namespace bbmd::reliability;
  Options opt;
  std::set<std::string> only;
  bool list = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    try {
      if (a == "--quick") {
        opt.quick = true;
      } else if (a == "--list") {
        list = true;
      } else if (a == "--seed") {
        const char* v = next();
        if (!v) return usage(argv[0]);
        opt.seed = std::stoull(v);
      } else if (a == "--scale") {
        const char* v = next();
        if (!v) return usage(argv[0]);
        opt.scale = std::stod(v);
        if (!(opt.scale > 0)) return usage(argv[0]);
      } else if (a == "--only") {
        const char* v = next();
        if (!v) return usage(argv[0]);
        only.insert(v);
      } else {
        return usage(argv[0]);
      }
    } catch (const std::exception&) {
      std::cerr << "bad value for " << a << "\n";
      return usage(argv[0]);
    }
  }

  auto ordered = scenarios();
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.order < b.order; });
  if (list) {
    for (const auto& s : ordered) std::cout << s.name << "\n";
    return 0;
  }
  for (const auto& name : only) {
    if (std::none_of(ordered.begin(), ordered.end(), [&](const auto& s) { return s.name == name; })) {
      std::cerr << "no scenario named " << name << "\n";
      return 2;
    }
  }

  std::printf("bbmd reliability suite: seed %llu, %s, scale %.2f\n", static_cast<unsigned long long>(opt.seed),
              opt.quick ? "quick" : "full", opt.scale);
  Tally total;
  std::vector<ScenarioFaults> per_scenario;
  for (const auto& s : ordered) {
    if (!only.empty() && !only.count(s.name)) continue;
    std::printf("== %s\n", s.name.c_str());
    std::fflush(stdout);
    const long injected = total.faults_injected;
    const long survived = total.faults_survived;
    try {
      s.run(opt, total);
    } catch (const std::exception& e) {
      total.fail(s.name + ": aborted: " + e.what());
    }
    per_scenario.push_back({s.name, total.faults_injected - injected, total.faults_survived - survived});
    std::fflush(stdout);
  }
  print_summary(total, per_scenario);
  bool clean = total.rows_lost == 0 && total.rows_changed_twice == 0 && total.crashes == 0 && total.hangs == 0 &&
               total.failures.empty();
  std::printf("%s\n", clean ? "RELIABILITY OK" : "RELIABILITY FAILED");
  return clean ? 0 : 1;
}
