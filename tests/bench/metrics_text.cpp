// Sums over registry_database_* series (see metrics_text.hpp).
#include "bench/metrics_text.hpp"

#include <sstream>

#include "e2e/e2e_helpers.hpp"

namespace bbmd::bench {

namespace {
constexpr const char* kDurationSum = "registry_database_query_duration_seconds_sum{";
constexpr const char* kNameLabel = "name=\"";
}  // namespace

double query_count(const std::string& scrape) { return e2e::metric_sum(scrape, "registry_database_queries_total"); }

double query_seconds_except(const std::string& scrape, const std::string& excluded_prefix) {
  double sum = 0;
  std::istringstream in(scrape);
  const std::string head = kDurationSum;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(head, 0) != 0) continue;
    const auto name = line.find(kNameLabel);
    if (name != std::string::npos && line.compare(name + 6, excluded_prefix.size(), excluded_prefix) == 0) continue;
    sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

}  // namespace bbmd::bench
