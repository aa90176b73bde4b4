// Printing figures as they come, and the verdict at the end.
#include <cstdio>
#include <iostream>

#include "bench/bench.hpp"

namespace bbmd::bench {

namespace {

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, v >= 100 ? "%.0f" : (v >= 1 ? "%.2f" : "%.4f"), v);
  return buf;
}

}  // namespace

void Report::add(Figure f) {
  std::string line = f.name + ": " + number(f.value) + " " + f.unit;
  if (f.ratio) line += " (" + number(*f.ratio) + "x vs baseline)";
  if (!f.target.empty()) line += "  target " + f.target + (f.met ? "  [met]" : "  [MISSED]");
  std::cout << line << std::endl;
  figures_.push_back(std::move(f));
}

void Report::error(const std::string& scenario, const std::string& what) {
  std::cout << "ERROR in " << scenario << ": " << what << std::endl;
  errors_.push_back(scenario + ": " + what);
}

bool Report::targets_met() const {
  for (const auto& f : figures_) {
    if (!f.met) return false;
  }
  return true;
}

void Report::print_summary() const {
  int missed = 0;
  for (const auto& f : figures_) missed += f.met ? 0 : 1;
  std::cout << "\nbench summary: " << figures_.size() << " figures, " << missed << " targets missed, "
            << errors_.size() << " errors" << std::endl;
  for (const auto& e : errors_) std::cout << "  ERROR " << e << std::endl;
}

}  // namespace bbmd::bench
