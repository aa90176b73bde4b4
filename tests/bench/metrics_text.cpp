// Sums over registry_database_* series by statement name (see metrics_text.hpp).
#include "bench/metrics_text.hpp"

#include <sstream>

namespace bbmd::bench {

namespace {

constexpr const char* kNameLabel = "name=\"";

// Sums the series `head{...}` whose name label `names` counts.
double sum_series(const std::string& scrape, const std::string& head, const StatementNames& names) {
  double sum = 0;
  std::istringstream in(scrape);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(head, 0) != 0) continue;
    const auto start = line.find(kNameLabel);
    if (start == std::string::npos) continue;
    const auto from = start + std::string(kNameLabel).size();
    if (!names.counts(line.substr(from, line.find('"', from) - from))) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace

bool StatementNames::counts(const std::string& name) const {
  for (const auto& prefix : prefixes) {
    if (name.rfind(prefix, 0) == 0) return !excluding;
  }
  return excluding;
}

double query_count(const std::string& scrape, const StatementNames& names) {
  return sum_series(scrape, "registry_database_queries_total{", names);
}

double query_seconds(const std::string& scrape, const StatementNames& names) {
  return sum_series(scrape, "registry_database_query_duration_seconds_sum{", names);
}

}  // namespace bbmd::bench
